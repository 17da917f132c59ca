"""kill -9 in the middle of an ingest, then `ingest` again: it continues the same run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg

from hotstar_sync.config import load_settings
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.simulator import SimulatorConfig, serve_in_process, serve_in_thread
from tests.jobs.mirror import assert_mirror_matches


def done_windows(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM hotstar_sync_windows WHERE status = 'done'"
        ).fetchone()
    return row[0] if row else 0


def ingest_until(db_url: str, base_url: str, *, windows: int) -> subprocess.Popen[str]:
    """`hotstar-sync ingest` in a child process (8 requests/s), once it has finished
    `windows` windows; its stderr is piped."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "HOTSTAR_API_BASE_URL": base_url,
        "HOTSTAR_RATE_LIMIT_RPS": "8",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "hotstar_sync", "ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while done_windows(db_url) < windows and child.poll() is None:
        assert time.monotonic() < deadline, "the ingest made no progress"
        time.sleep(0.05)
    return child


def test_kill_9_mid_ingest_then_resume_ends_exact_with_little_refetching(db_url):
    config = SimulatorConfig(movies=24_000, seed=21, rate_limit=0, cluster_size=1_000)
    with serve_in_process(config) as sim:
        child = ingest_until(db_url, sim.base_url, windows=2)
        child.send_signal(signal.SIGKILL)
        child.communicate()
        with psycopg.connect(db_url) as conn:
            (status,) = conn.execute("SELECT status FROM hotstar_sync_log").fetchone() or ("",)
        assert status == "running"  # what a killed process leaves behind

        settings = load_settings(api_base_url=sim.base_url, database_url=db_url, rate_limit_rps=0)
        report = ingest(settings)
    with serve_in_thread(config) as same:  # the same seed: the same catalogue
        truth = same.catalog.truth()
    assert report.resumed and report.status == "completed"
    assert_mirror_matches(db_url, truth)
    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT id, status, items_added, total_items_fetched, api_requests_made"
            " FROM hotstar_sync_log"
        ).fetchall()
    ((run_id, status, added, fetched, requests),) = runs
    assert (run_id, status, added) == (report.run_id, "completed", 24_000 - config.malformed)
    # A fresh pass needs about 26 requests; the resumed one skipped the finished windows.
    assert report.requests <= 26 - 2 * 9 + 4
    # Both attempts count alike: the killed one's pages are in the items fetched, and so
    # are its requests (booked with each page), a page of at most 1,000 items a request.
    assert fetched > 24_000 and requests > report.requests
    assert requests >= fetched / 1_000


def test_sigterm_mid_ingest_marks_the_run_failed_then_resume_ends_exact(db_url):
    # A service manager's stop, `kill` or `timeout`: the run is marked failed with the
    # reason at once (not left 'running' for the next job to call abandoned), exit 143.
    config = SimulatorConfig(movies=12_000, seed=22, rate_limit=0, cluster_size=1_000)
    with serve_in_process(config) as sim:
        child = ingest_until(db_url, sim.base_url, windows=1)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
        assert child.returncode == 143, err
        assert err.splitlines()[-1] == "terminated (SIGTERM)"
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT status, errors, completed_at FROM hotstar_sync_log"
            ).fetchone()
        assert row is not None
        status, errors, completed_at = row
        assert (status, errors[-1]) == ("failed", "terminated (SIGTERM)")
        assert completed_at is not None

        settings = load_settings(api_base_url=sim.base_url, database_url=db_url, rate_limit_rps=0)
        report = ingest(settings)
    with serve_in_thread(config) as same:
        truth = same.catalog.truth()
    assert report.resumed and report.status == "completed"
    assert_mirror_matches(db_url, truth)

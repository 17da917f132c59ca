"""One job at a time under database faults, and runs recorded whatever stops them.

The first job runs in a process of its own (`python -m hotstar_sync`), as cron starts it;
the database then misbehaves under it: its lock's connection is terminated, or every one
of its connections is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.db.runs import JOB_LOCK_KEY
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.reconcile import reconcile
from hotstar_sync.jobs.session import session
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.jobs.mirror import assert_mirror_matches
from tests.jobs.test_ingest import settings_for, sync_log

CONFIG = SimulatorConfig(movies=12_500, seed=5, rate_limit=0, cluster_size=2_000, malformed=0)

_LOCK_HOLDER = """
SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid::bigint = (%(key)s::bigint >> 32) & 4294967295
  AND objid::bigint = %(key)s::bigint & 4294967295
"""


def wait_for(what: str, check: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def query(db_url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def start_job(db_url: str, base_url: str, *args: str) -> subprocess.Popen[str]:
    env = os.environ | {
        "DATABASE_URL": db_url,
        "HOTSTAR_API_BASE_URL": base_url,
        "HOTSTAR_RATE_LIMIT_RPS": "4",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hotstar_sync", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def writing(db_url: str) -> Any:
    """The first job's run, once it has written a page."""
    rows = query(
        db_url,
        "SELECT id FROM hotstar_sync_log WHERE status = 'running' AND total_items_fetched > 0",
    )
    return rows[0][0] if rows else None


def test_a_job_that_lost_its_lock_to_another_stops_before_its_next_write(db_url):
    with serve_in_thread(CONFIG) as sim:
        settings = settings_for(sim.base_url, db_url)
        assert ingest(settings).status == "completed"
        sim.catalog.apply_day(updates=40, removals=6)
        first = start_job(db_url, sim.base_url, "reconcile", "--type", "movie")
        try:
            run = wait_for("the reconcile's first page", lambda: writing(db_url))
            (holder,) = wait_for(
                "the lock", lambda: query(db_url, _LOCK_HOLDER, {"key": JOB_LOCK_KEY})
            )
            # Frozen wherever it is (a page in flight, say), its lock's connection closed by
            # the server: another job takes the lock and runs meanwhile.
            os.kill(first.pid, signal.SIGSTOP)
            query(db_url, "SELECT pg_terminate_backend(%s)", holder)
            env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
            second: dict[str, Any] = {}
            other = threading.Thread(
                target=lambda: second.update(
                    result=CliRunner().invoke(app, ["sync", "--type", "movie"], env=env)
                )
            )
            other.start()
            time.sleep(1.0)  # the sync waits for the frozen job's page in flight, if any
            os.kill(first.pid, signal.SIGCONT)
            other.join(120)
            _, stderr = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
        assert second["result"].exit_code == 0, second["result"].output
        assert first.returncode == 3, stderr
        assert "lost the database's job lock" in stderr
        runs = {r["id"]: r for r in sync_log(db_url)}
        # The first job's run is marked failed by itself, with why: not abandoned by the
        # second, which saw its process alive.
        assert runs[run]["status"] == "failed"
        assert "lost the database's job lock" in runs[run]["errors"][-1]
        daily = max(r["id"] for r in runs.values() if r["sync_type"] == "daily")
        assert runs[daily]["status"] == "completed"
        # Nothing of the first job's was written once the second began writing.
        late = query(
            db_url,
            "SELECT count(*) FROM hotstar_change_log WHERE run_id = %s AND changed_at >="
            " (SELECT min(changed_at) FROM hotstar_change_log WHERE run_id = %s)",
            (run, daily),
        )
        assert late == [(0,)]
        assert reconcile(settings).status == "completed"
        assert_mirror_matches(db_url, sim.catalog.truth())


def test_a_job_whose_connections_are_all_terminated_is_recorded_failed(db_url):
    with serve_in_thread(CONFIG) as sim:
        settings = settings_for(sim.base_url, db_url)
        assert ingest(settings).status == "completed"
        first = start_job(db_url, sim.base_url, "reconcile", "--type", "movie")
        try:
            run = wait_for("the reconcile's first page", lambda: writing(db_url))
            query(
                db_url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'hotstar-sync' AND pid <> pg_backend_pid()"
                " AND datname = current_database()",
            )
            _, stderr = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 1, stderr
        (row,) = [r for r in sync_log(db_url) if r["id"] == run]
        # Marked failed, with the reason, from a fresh connection: not left 'running'.
        assert row["status"] == "failed", row
        assert "connection" in row["errors"][-1], row["errors"]
        assert "hint: the connection to the database was lost" in stderr, stderr
        assert "db upgrade" not in stderr
        # The next run is not blocked.
        assert reconcile(settings).status == "completed"
        assert_mirror_matches(db_url, sim.catalog.truth())


def test_a_sync_completes_under_a_short_idle_session_timeout(db_url):
    # The writer's connection idles while the count probe asks the API (a dozen requests
    # at 3/s), the lock's for the whole run: a server closing idle sessions after 1 s must
    # not stop the job.
    with serve_in_thread(CONFIG) as sim:
        settings = settings_for(sim.base_url, db_url)
        assert ingest(settings).status == "completed"
        sim.catalog.apply_day(updates=10, removals=1)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {conn.info.dbname} SET idle_session_timeout = '1s'")
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "3",
        }
        result = CliRunner().invoke(app, ["sync", "--type", "movie"], env=env)
        assert result.exit_code == 0, result.output
        assert "1 vanished" in result.output
        assert_mirror_matches(db_url, sim.catalog.truth())


def test_a_token_recorded_after_its_connection_was_closed_reconnects(db_url):
    with serve_in_thread(CONFIG) as sim:
        settings = settings_for(sim.base_url, db_url)
        with session(settings, db_url) as s:
            s.client.search("/movie/search", {"offset": 0, "size": 1})  # the first token
            ours = {s.lock.conn.info.backend_pid, s.conn.info.backend_pid}
            query(
                db_url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'hotstar-sync'"
                " AND pid <> pg_backend_pid() AND NOT pid = ANY(%s)",
                (list(ours),),
            )
            time.sleep(0.1)
            s.client._tokens.refresh()  # a new token, recorded on a new connection
        assert query(db_url, "SELECT count(*) FROM hotstar_api_tokens") == [(2,)]

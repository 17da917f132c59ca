"""`ingest` against the simulator over HTTP and a real PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.config import load_settings
from hotstar_sync.errors import AuthError
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.simulator import FaultSettings, SimulatorConfig, serve_in_thread
from tests.jobs.mirror import assert_mirror_matches, mirror_rows


def settings_for(base_url: str, db_url: str, **overrides: Any):
    options: dict[str, Any] = {
        "api_base_url": base_url,
        "database_url": db_url,
        "rate_limit_rps": 0,
        "circuit_breaker_seconds": 1,
        "slow_response_seconds": 1,
    }
    options.update(overrides)
    return load_settings(**options)


def sync_log(db_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM hotstar_sync_log ORDER BY id").fetchall()


@pytest.mark.parametrize("bounds", ["inclusive", "half-open", "exclusive"])
def test_mirror_equals_the_truth_under_each_bound_rule(db_url, bounds):
    config = SimulatorConfig(
        movies=12_500, seed=11, rate_limit=0, bounds=bounds, cluster_size=2_000
    )
    with serve_in_thread(config) as sim:
        started = int(time.time())
        report = ingest(settings_for(sim.base_url, db_url))
        truth = sim.catalog.truth()
    assert report.status == "completed" and not report.unverified
    assert_mirror_matches(db_url, truth)
    starts = {t.item["startDate"] for t in truth.items.values()}
    assert 0 in starts and 32535072000 in starts  # the edges the seed's year windows missed
    rows = mirror_rows(db_url)
    assert {r["start_date"] for r in rows.values()} >= {0, 32535072000}
    (run,) = sync_log(db_url)
    malformed = sum(t.malformed is not None for t in truth.items.values())
    assert run["sync_type"] == "initial" and run["status"] == "completed"
    assert run["items_added"] == len(rows) == len(truth.items) - malformed
    assert run["items_quarantined"] == malformed and run["items_updated"] == 0
    assert run["api_requests_made"] == report.requests
    assert started <= run["to_update_date"] <= started + 2  # the upper bound is the start
    # A pass over 10,000 items: the window was split, and it still costs about the floor.
    assert report.requests <= 1.1 * 13 + 2


def test_a_second_holding_more_than_ten_thousand_items(db_url):
    config = SimulatorConfig(movies=13_000, seed=5, rate_limit=0, cluster_size=10_500)
    with serve_in_thread(config) as sim:
        report = ingest(settings_for(sim.base_url, db_url))
        truth = sim.catalog.truth()
    assert report.status == "completed"
    assert_mirror_matches(db_url, truth)


def test_rerun_after_a_finished_run_rewrites_nothing(db_url):
    with serve_in_thread(SimulatorConfig(movies=3_000, seed=2, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        with psycopg.connect(db_url) as conn:
            before = conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall()
        again = ingest(settings)
        with psycopg.connect(db_url) as conn:
            after = conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall()
            changes = conn.execute(
                "SELECT count(*) FROM hotstar_change_log WHERE run_id = %s", (again.run_id,)
            ).fetchone()
    assert not again.resumed and again.counts.added == 0 and again.counts.updated == 0
    assert sorted(before) == sorted(after)  # not one row rewritten
    assert changes == (0,)  # the second pass logged no change
    assert [r["status"] for r in sync_log(db_url)] == ["completed", "completed"]


def test_faults_429_5xx_slow_and_dropped_connections_are_survived(db_url):
    faults = FaultSettings(error_rate=0.05, drop_rate=0.05, slow_seconds=1.5)
    config = SimulatorConfig(movies=4_000, seed=9, rate_limit=20, faults=faults)
    with serve_in_thread(config) as sim:
        for kind in ("error", "drop", "slow", "rate_limit", "error"):
            sim.faults.fail_next(1, kind)
        # Unpaced against a 20 req/s limit: some requests get 429 and are retried.
        report = ingest(settings_for(sim.base_url, db_url, max_retries=8))
        truth = sim.catalog.truth()
    assert report.status == "completed"
    assert_mirror_matches(db_url, truth)
    (run,) = sync_log(db_url)
    errors = " ".join(run["errors"])
    assert run["error_count"] >= 4 and report.requests >= 4 + 5
    for sign in ("HTTP 503", "HTTP 429", "RemoteProtocolError"):
        assert sign in errors


def test_churn_while_walking_still_ends_exact(db_url):
    config = SimulatorConfig(
        movies=4_000, seed=4, rate_limit=0, faults=FaultSettings(churn_rate=0.3, churn_items=3)
    )
    with serve_in_thread(config) as sim:
        before = sim.catalog.truth()
        report = ingest(settings_for(sim.base_url, db_url))
        sim.faults.set(churn_rate=0.0)
        after = sim.catalog.truth()
    assert report.status in ("completed", "incomplete")
    rows = mirror_rows(db_url)
    # Items added mid-pass may land in a window already walked (the next sync gets them);
    # an item present from start to end must never be missed.
    present = {c for c, t in after.items.items() if t.malformed is None and c in before.items}
    assert present <= set(rows), "an item present all along was missed"
    assert len(after.removed) > 0  # churn really happened


def test_token_expiry_mid_run(db_url):
    with serve_in_thread(SimulatorConfig(movies=7_000, seed=1, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url, token_window_seconds=4, rate_limit_rps=1.5)
        report = ingest(settings)  # ~8 requests at 1.5/s: longer than one token lives
        truth = sim.catalog.truth()
    assert report.status == "completed"
    assert_mirror_matches(db_url, truth)
    with psycopg.connect(db_url) as conn:
        tokens = conn.execute("SELECT count(*), count(token) FROM hotstar_api_tokens").fetchone()
    assert tokens is not None and tokens[0] >= 2 and tokens[1] == 0  # times kept, never tokens


def test_a_wrong_secret_fails_fast_and_marks_the_run_failed(db_url):
    with serve_in_thread(SimulatorConfig(movies=1_000, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url, akamai_secret="00" * 16)
        started = time.monotonic()
        with pytest.raises(AuthError):
            ingest(settings)
    assert time.monotonic() - started < 5
    (run,) = sync_log(db_url)
    assert run["status"] == "failed"
    assert (
        run["errors"][-1]
        == "/movie/search: the partner API refused a freshly made token (HTTP 403)"
    )


def test_an_unexpected_error_marks_the_run_failed_with_its_reason(db_url, monkeypatch):
    # Not one of ours (a bug, a library's own exception): the run must not stay 'running'
    # for the next job to call abandoned without a reason.
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OverflowError("timestamp out of range for platform time_t")

    monkeypatch.setattr("hotstar_sync.jobs.pipeline.prepare", broken)
    with (
        serve_in_thread(SimulatorConfig(movies=1_000, rate_limit=0)) as sim,
        pytest.raises(OverflowError),
    ):
        ingest(settings_for(sim.base_url, db_url))
    (run,) = sync_log(db_url)
    assert run["status"] == "failed" and run["completed_at"] is not None
    assert run["errors"][-1] == (
        "unexpected error: OverflowError: timestamp out of range for platform time_t"
    )


def test_malformed_and_clashing_items_are_quarantined_and_the_load_goes_on(db_url):
    config = SimulatorConfig(movies=2_000, seed=8, rate_limit=0, malformed=6, duplicate_ids=2)
    with serve_in_thread(config) as sim:
        report = ingest(settings_for(sim.base_url, db_url))
        truth = sim.catalog.truth()
    assert report.status == "completed"
    assert_mirror_matches(db_url, truth)
    with psycopg.connect(db_url) as conn:
        reasons = dict(conn.execute("SELECT item_key, reason FROM hotstar_quarantine").fetchall())
    malformed = {c for c, t in truth.items.items() if t.malformed is not None}
    clashing = {cid for ids in truth.id_clashes.values() for cid in ids[1:]}
    assert malformed | clashing <= set(reasons)
    assert report.counts.quarantined >= len(malformed)


def test_log_json_keeps_stderr_json_and_verbose_logs_each_request(db_url):
    with serve_in_thread(SimulatorConfig(movies=1_500, rate_limit=0)) as sim:
        env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
        runner = CliRunner()
        done = runner.invoke(app, ["--log-json", "-v", "ingest", "--type", "movie"], env=env)
        assert done.exit_code == 0, done.stderr
        events = [json.loads(line) for line in done.stderr.splitlines()]
        requests = [e for e in events if e["event"] == "request"]
        assert len(requests) >= 2 and {e["status"] for e in requests} == {200}
        assert all("hmac" not in json.dumps(e) for e in requests)
        assert any(e["event"] == "page written" and e["items"] > 0 for e in events)

        # A failure is a JSON event too, not a plain "error:" line among JSON lines.
        wrong = env | {"HOTSTAR_AKAMAI_SECRET": "00" * 16}
        failed = runner.invoke(app, ["--log-json", "ingest", "--type", "movie"], env=wrong)
    assert failed.exit_code == 1
    events = [json.loads(line) for line in failed.stderr.splitlines()]
    assert events[-1]["event"] == "command failed" and events[-1]["exit_code"] == 1
    assert "refused a freshly made token" in events[-1]["error"]
    assert "allow-list" in events[-1]["hint"]
    assert not any(e["event"] == "request" for e in events)  # no -v: no debug lines

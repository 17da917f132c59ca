"""`sync` and `reconcile` against the simulator over HTTP and a real PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import psycopg
import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.errors import ConfigError, JobLockedError
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.reconcile import reconcile
from hotstar_sync.jobs.sync import sync
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.jobs.mirror import assert_mirror_matches, mirror_rows
from tests.jobs.test_ingest import settings_for, sync_log

JOB_LOCK_KEY = 0x6873796E63


def change_log(db_url: str, run_id: int) -> list[tuple[str, str, str | None]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT content_id, change, reason FROM hotstar_change_log WHERE run_id = %s",
            (run_id,),
        ).fetchall()


def test_a_day_of_mixed_changes_then_sync_and_reconcile_equals_the_truth(db_url):
    config = SimulatorConfig(movies=5_000, seed=31, rate_limit=0, index_lag_seconds=1.5)
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        day = sim.catalog.apply_day(
            adds=20, back_catalogue_adds=10, updates=40, unpublish=8, republish=5, removals=6
        )
        early = sync(settings, reconcile=False)  # before the index shows the changes
        time.sleep(max(0.0, day.visible_at - time.time()) + 0.2)
        late = sync(settings, reconcile=False)  # the lookback window catches them now
        assert late.from_update_date < early.to_update_date  # windows overlap by the lookback
        # Whichever sync stored a change (the early one's count probe may already see
        # some), each change is counted once.
        both = early.counts + late.counts
        assert both.added == 30
        assert both.updated == 40 + 8 + 5
        republished_live = sum(
            1 for cid in day.republished if sim.catalog.truth().items[cid].end_date > time.time()
        )
        assert both.deleted == 8 and both.restored == republished_live
        assert late.requests <= 2 + 12  # the sync, its probe, and a fetched window or two
        live_before = {c for c, r in mirror_rows(db_url).items() if not r["is_deleted"]}
        report = reconcile(settings)
        truth = sim.catalog.truth()
    assert report.status == "completed"
    assert report.vanished == len(set(day.removed) & live_before)
    assert_mirror_matches(db_url, truth)
    rows = mirror_rows(db_url)
    assert {c for c, r in rows.items() if r["deleted_reason"] == "vanished"} == set(day.removed)
    logged = change_log(db_url, late.run_id)
    assert sorted(c for c, change, _ in logged if change == "insert") == sorted(
        day.added + day.back_catalogue_added
    )
    assert {c for c, change, reason in logged if change == "delete"} == set(day.unpublished)
    assert {(c, r) for c, change, r in change_log(db_url, report.run_id)} >= {
        (c, "vanished") for c in day.removed
    }
    types = [(r["sync_type"], r["status"]) for r in sync_log(db_url)]
    assert types == [
        ("initial", "completed"),
        ("daily", "completed"),
        ("daily", "completed"),
        ("reconcile", "completed"),
    ]


def test_a_quiet_day_costs_two_requests_and_rewrites_nothing(db_url):
    with serve_in_thread(SimulatorConfig(movies=3_000, seed=3, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        with psycopg.connect(db_url) as conn:
            before = conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall()
        report = sync(settings, reconcile=False)
        with psycopg.connect(db_url) as conn:
            after = conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall()
    # One request for the day's changes, one for the count probe.
    assert report.requests == 2 and report.counts.added == report.counts.updated == 0
    assert report.probe is not None and report.probe.drift == 0
    assert sorted(before) == sorted(after)


def test_the_first_sync_starts_from_the_ingest_start_minus_the_lookback(db_url):
    with serve_in_thread(SimulatorConfig(movies=1_000, seed=3, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url, lookback_seconds=600)
        ingest(settings)
        report = sync(settings, reconcile=False)
    initial = sync_log(db_url)[0]
    assert report.from_update_date == initial["to_update_date"] - 600


def test_sync_without_an_ingest_says_what_to_do(db_url):
    with (
        serve_in_thread(SimulatorConfig(movies=100, rate_limit=0)) as sim,
        pytest.raises(ConfigError, match="no completed ingest of movie items"),
    ):
        sync(settings_for(sim.base_url, db_url))


def test_more_than_ten_thousand_changes_in_one_window(db_url):
    with serve_in_thread(SimulatorConfig(movies=12_000, seed=6, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        day = sim.catalog.apply_day(updates=10_400, adds=50)
        report = sync(settings, reconcile=False)
        truth = sim.catalog.truth()
    assert report.status == "completed" and report.counts.added == 50
    # Malformed items stay malformed when updated: they go to the quarantine again.
    assert report.counts.updated == sum(truth.items[c].malformed is None for c in day.updated)
    assert_mirror_matches(db_url, truth)


def test_the_guard_refuses_a_30_percent_vanish_and_force_applies_it(db_url):
    with serve_in_thread(SimulatorConfig(movies=2_000, seed=12, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        day = sim.catalog.apply_day(removals=600)
        rows = mirror_rows(db_url)
        live = {c for c, r in rows.items() if not r["is_deleted"]}
        result = CliRunner().invoke(
            app,
            ["reconcile", "--type", "movie"],
            env={
                "DATABASE_URL": db_url,
                "HOTSTAR_API_BASE_URL": sim.base_url,
                "HOTSTAR_RATE_LIMIT_RPS": "0",
            },
        )
        assert result.exit_code == 4, result.output
        n = len(live & set(day.removed))
        assert f"error: reconcile run 2 would soft-delete {n} of {len(live):,} live rows" in (
            result.stderr
        )
        assert not any(r["deleted_reason"] == "vanished" for r in mirror_rows(db_url).values())
        assert sync_log(db_url)[-1]["status"] == "refused"
        forced = reconcile(settings, force=True)
        truth = sim.catalog.truth()
    assert forced.status == "completed" and forced.vanished == n
    assert_mirror_matches(db_url, truth)


def test_churn_during_a_reconcile_deletes_nothing_that_exists(db_url):
    config = SimulatorConfig(movies=4_000, seed=14, rate_limit=0)
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        sim.faults.set(churn_rate=0.5, churn_items=3)
        report = reconcile(settings, force=True)
        sim.faults.set(churn_rate=0.0)
        truth = sim.catalog.truth()
    vanished = {c for c, r in mirror_rows(db_url).items() if r["deleted_reason"] == "vanished"}
    assert not vanished & set(truth.items), "an item that exists was marked vanished"
    assert report.status in ("completed", "incomplete")


def test_expiry_by_end_date_and_its_restore_over_the_mirror(db_url):
    with serve_in_thread(SimulatorConfig(movies=1_000, seed=2, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        live = [c for c, r in mirror_rows(db_url).items() if not r["is_deleted"]][:3]
        with psycopg.connect(db_url) as conn:
            # Time passing: the mirror's endDate of three live rows is now behind us.
            conn.execute(
                "UPDATE hotstar_movies SET end_date = 1000 WHERE content_id = ANY(%s)", (live,)
            )
        first = sync(settings, reconcile=False)
        rows = mirror_rows(db_url)
        assert first.expired == 3 and all(rows[c]["deleted_reason"] == "expired" for c in live)
        with psycopg.connect(db_url) as conn:  # ... and the endDate was extended again
            conn.execute(
                "UPDATE hotstar_movies SET end_date = 4102424940 WHERE content_id = ANY(%s)",
                (live,),
            )
        second = sync(settings, reconcile=False)
    assert second.unexpired == 3 and not any(mirror_rows(db_url)[c]["is_deleted"] for c in live)
    assert sorted(change for _, change, _ in change_log(db_url, first.run_id)) == ["delete"] * 3
    assert sorted(change for _, change, _ in change_log(db_url, second.run_id)) == ["restore"] * 3


def test_an_item_that_reappears_is_restored(db_url):
    with serve_in_thread(SimulatorConfig(movies=1_000, seed=2, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        cid = next(c for c, r in mirror_rows(db_url).items() if not r["is_deleted"])
        with psycopg.connect(db_url) as conn:
            conn.execute(
                "UPDATE hotstar_movies SET is_deleted = true, deleted_reason = 'vanished'"
                " WHERE content_id = %s",
                (cid,),
            )
        report = reconcile(settings)
    assert report.counts.restored == 1 and not mirror_rows(db_url)[cid]["is_deleted"]


def test_one_job_at_a_time_and_abandoned_runs(db_url):
    with serve_in_thread(SimulatorConfig(movies=500, seed=2, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest(settings)
        with psycopg.connect(db_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (JOB_LOCK_KEY,))
            with pytest.raises(JobLockedError):
                sync(settings)
            result = CliRunner().invoke(
                app, ["sync"], env={"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
            )
            assert result.exit_code == 3
            assert result.stderr.splitlines()[0] == (
                "error: another hotstar-sync job is running on this database"
            )
            # A process killed mid-run leaves a 'running' row behind.
            holder.execute(
                "INSERT INTO hotstar_sync_log (sync_type, started_at, status)"
                " VALUES ('daily', now() - interval '2 hours', 'running')"
            )
        with capture_logs() as logs:
            sync(settings, reconcile=False)
    statuses = [r["status"] for r in sync_log(db_url)]
    assert statuses == ["completed", "abandoned", "completed"]
    (marked,) = [e for e in logs if e["event"].startswith("run marked abandoned")]
    assert (marked["run"], marked["sync_type"], marked["log_level"]) == (2, "daily", "warning")


def test_changes_command_prints_the_feed_as_json_lines(db_url):
    with serve_in_thread(SimulatorConfig(movies=500, seed=2, rate_limit=0)) as sim:
        settings = settings_for(sim.base_url, db_url)
        first = ingest(settings)
        day = sim.catalog.apply_day(updates=3, adds=2)
        sync(settings, reconcile=False)
    env: dict[str, Any] = {"DATABASE_URL": db_url}
    result = CliRunner().invoke(app, ["changes", "--since", str(first.run_id), "--json"], env=env)
    assert result.exit_code == 0, result.output
    import orjson

    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert {(x["content_id"], x["change"]) for x in lines} == {
        *((c, "update") for c in day.updated),
        *((c, "insert") for c in day.added),
    }
    assert all(x["changed_fields"] for x in lines if x["change"] == "update")
    # A time without an offset is UTC, whatever the database session's time zone (PGTZ).
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT changed_at, count(*) OVER () FROM hotstar_change_log"
            " WHERE run_id > %s ORDER BY changed_at LIMIT 1",
            (first.run_id,),
        ).fetchone()
    assert row is not None
    naive = row[0].astimezone(UTC).replace(tzinfo=None).isoformat()
    for zone in ("UTC", "Asia/Kolkata", "America/New_York"):
        at = CliRunner().invoke(
            app, ["changes", "--since", naive, "--json"], env=env | {"PGTZ": zone}
        )
        assert len(at.stdout.splitlines()) == row[1], zone
    table = CliRunner().invoke(app, ["changes", "--since", naive], env=env | {"COLUMNS": "80"})
    assert "…" not in table.stdout  # every cell whole, even at 80 columns
    assert row[0].astimezone(UTC).isoformat(timespec="seconds") in table.stdout
    bad = CliRunner().invoke(app, ["changes", "--since", "yesterday"], env=env)
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[0] == (
        "error: --since: 'yesterday' is neither a run id nor an ISO-8601 time"
    )


def test_sync_of_every_type_skips_the_types_never_loaded(db_url):
    config = SimulatorConfig(movies=500, seed=2, rate_limit=0, shows=0, episodes=0, matches=0)
    with serve_in_thread(config) as sim:
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "0",
        }
        nothing = CliRunner().invoke(app, ["sync"], env=env)
        assert nothing.exit_code == 2
        assert nothing.stderr.splitlines()[0] == "error: no completed ingest in this database yet"
        ingest(settings_for(sim.base_url, db_url))  # movies only
        result = CliRunner().invoke(app, ["sync", "--no-reconcile"], env=env)
    assert result.exit_code == 0, result.output
    assert [r["content_type"] for r in sync_log(db_url)] == ["movie", "movie"]

"""`hotstar-sync health`: the rules on crafted sync-log histories, with Nagios exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from hotstar_sync.db.runs import JOB_LOCK_KEY, resumable_run
from hotstar_sync.ops.health import (
    History,
    Level,
    Limits,
    RunRow,
    evaluate,
)
from tests.ops.conftest import add_run, cli, utc

H = timedelta(hours=1)
D = timedelta(days=1)


def health(log_db: str, **env: str) -> tuple[int, list[str]]:
    result = cli(log_db, "health", **env)
    return result.exit_code, result.stdout.splitlines()


def test_no_run_at_all_is_critical(log_db: str) -> None:
    assert health(log_db) == (2, ["CRITICAL: no sync has run: start with `hotstar-sync ingest`"])


def test_a_fresh_daily_sync_after_a_recent_pass_is_ok(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=2 * D)
    add_run(log_db, "daily", "completed", ago=3 * H)
    assert health(log_db) == (
        0,
        ["OK: last daily sync completed 3.0 h ago; last complete pass 2.0 days ago"],
    )


def test_right_after_the_first_ingest_no_daily_sync_is_due(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=2 * H, seconds=3600)
    assert health(log_db) == (0, ["OK: no daily sync due yet; last complete pass 0.0 days ago"])


def test_no_daily_sync_a_day_after_the_ingest_is_critical(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=30 * H)
    assert health(log_db) == (2, ["CRITICAL: no daily sync has run"])


def test_a_stale_daily_sync_is_critical(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    run = add_run(log_db, "daily", "completed", ago=30 * H)
    assert health(log_db) == (
        2,
        [
            f"CRITICAL: last daily sync was 30.0 h ago (started {utc(run.started_at)}), "
            "over the 26.0 h limit"
        ],
    )


def test_a_failed_daily_sync_is_critical_with_its_reason(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=26 * H)
    run = add_run(
        log_db,
        "daily",
        "failed",
        ago=2 * H,
        errors=["HTTP 503 at offset 0", "retries exhausted: HTTP 503 at offset 0"],
    )
    assert health(log_db) == (
        2,
        [
            f"CRITICAL: last daily sync failed at {utc(run.completed_at)}: "
            "retries exhausted: HTTP 503 at offset 0"
        ],
    )


def test_a_failure_that_is_also_stale_gives_one_line_per_finding(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    run = add_run(log_db, "daily", "failed", ago=28 * H)
    code, lines = health(log_db)
    assert code == 2
    assert lines == [
        f"CRITICAL: last daily sync was 28.0 h ago (started {utc(run.started_at)}), "
        "over the 26.0 h limit",
        f"CRITICAL: last daily sync failed at {utc(run.completed_at)}: no reason recorded",
    ]


@contextmanager
def job_running(db_url: str) -> Iterator[None]:
    """The database's job lock held, as a running hotstar-sync job holds it."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (JOB_LOCK_KEY,))
        yield


def test_a_job_running_for_over_six_hours_is_stuck(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=20 * H)
    run = add_run(log_db, "reconcile", "running", ago=7 * H)
    with job_running(log_db):
        assert health(log_db) == (
            2,
            [
                f"CRITICAL: reconcile run {run.id} stuck in 'running' for 7.0 h "
                f"(started {utc(run.started_at)})"
            ],
        )


def test_a_long_job_holding_the_lock_is_fine(log_db: str) -> None:
    # A reconcile of every show's seasons takes ~1.7 h at 1 request/s.
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=20 * H)
    add_run(log_db, "reconcile", "running", ago=2 * H)
    with job_running(log_db):
        assert health(log_db) == (
            0,
            ["OK: last daily sync completed 20.0 h ago; last complete pass 3.0 days ago"],
        )


def test_a_running_row_whose_process_is_gone_is_critical(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=20 * H)
    run = add_run(log_db, "reconcile", "running", ago=0.5 * H)
    assert health(log_db) == (
        2,
        [
            f"CRITICAL: reconcile run {run.id} left in 'running' (started "
            f"{utc(run.started_at)}): no job holds the job lock, so its process ended without "
            "finishing; the next job marks it abandoned"
        ],
    )


def test_a_running_row_a_minute_old_is_not_yet_suspect(log_db: str) -> None:
    # The job may have taken the lock after the check read it.
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "running", ago=timedelta(minutes=1))
    assert health(log_db)[0] == 0


def test_one_type_s_trouble_is_not_hidden_by_another_type_s_success(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=2 * H)
    refused = add_run(log_db, "reconcile", "refused", ago=1 * H)
    add_run(log_db, "initial", "completed", ago=3 * D, content_type="channel")
    add_run(log_db, "daily", "completed", ago=2 * H, content_type="channel")
    add_run(log_db, "reconcile", "completed", ago=0.5 * H, content_type="channel")
    code, lines = health(log_db)
    assert code == 1
    assert lines == [
        f"WARNING: movie: deletion guard tripped: reconcile run {refused.id} at "
        f"{utc(refused.completed_at)} was refused, nothing was deleted; review it, then run "
        "`hotstar-sync reconcile --force`"
    ]
    add_run(log_db, "reconcile", "completed", ago=0.2 * H)
    code, lines = health(log_db)
    assert code == 0
    assert [line.split(":")[:2] for line in lines] == [["OK", " channel"], ["OK", " movie"]]


def test_a_tripped_deletion_guard_is_a_warning(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=6 * D)
    refused = add_run(log_db, "reconcile", "refused", ago=2 * H)
    add_run(log_db, "daily", "completed", ago=2 * H)
    assert health(log_db) == (
        1,
        [
            f"WARNING: deletion guard tripped: reconcile run {refused.id} at "
            f"{utc(refused.completed_at)} was refused, nothing was deleted; review it, then "
            "run `hotstar-sync reconcile --force`"
        ],
    )


DEFERRED = {
    "probe": {
        "api_total": 30_020,
        "mirror_total": 30_029,
        "drift": -9,
        "fell_back": False,
        "deferred": True,
        "settling": True,
    }
}


def test_a_deferred_count_probe_warns_once_deletions_go_unchecked_too_long(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=6 * D, seconds=0)
    checked = add_run(log_db, "daily", "completed", ago=3 * D + H, details={"probe": {}})
    for ago in (2 * D, D):  # the probes of the nights since were deferred
        add_run(log_db, "daily", "completed", ago=ago, details=DEFERRED)
    last = add_run(log_db, "daily", "completed", ago=H, details=DEFERRED)
    assert health(log_db) == (
        1,
        [
            f"WARNING: deletions unchecked (checked last 3.0 days ago, "
            f"{utc(checked.started_at)}): the count probe of daily sync run {last.id} "
            f"({utc(last.started_at)}) was deferred, the search index was still settling; "
            "the next reconcile checks them, or run `hotstar-sync reconcile`"
        ],
    )
    # The limit is a setting; a probe that finishes (or a complete pass) checks them.
    within = cli(log_db, "health", HOTSTAR_DELETIONS_UNCHECKED_DAYS="4")
    assert within.exit_code == 0
    assert within.stdout.startswith(
        "OK: last daily sync completed 1.0 h ago; its count probe found drift -9 (API 30,020, "
        "mirror 30,029): deferred to the next run, the search index was still settling"
    )
    add_run(log_db, "daily", "completed", ago=H / 2, details={"probe": {"drift": 0}})
    assert health(log_db)[0] == 0


def test_a_guard_left_tripped_turns_critical_with_the_age_of_the_last_pass(log_db: str) -> None:
    first = add_run(log_db, "initial", "completed", ago=20 * D, seconds=0)
    refused = add_run(log_db, "reconcile", "refused", ago=3 * H, seconds=0)
    add_run(log_db, "daily", "completed", ago=3 * H)
    assert health(log_db) == (
        2,
        [
            f"CRITICAL: last complete pass (initial run {first.id}) finished 20.0 days ago "
            f"({utc(first.completed_at)}), over the 16.0 days limit",
            f"WARNING: deletion guard tripped: reconcile run {refused.id} at "
            f"{utc(refused.completed_at)} was refused, nothing was deleted; review it, then "
            "run `hotstar-sync reconcile --force`",
        ],
    )


def test_an_incomplete_reconcile_is_a_warning(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=6 * D)
    run = add_run(
        log_db,
        "reconcile",
        "incomplete",
        ago=1 * H,
        incomplete_windows=["startDate 0..100: drift", "startDate 100..: cap"],
    )
    add_run(log_db, "daily", "completed", ago=1 * H)
    assert health(log_db) == (
        1,
        [
            f"WARNING: last pass (reconcile run {run.id}, {utc(run.completed_at)}) was "
            "incomplete: 2 window(s) not verified, nothing was deleted"
        ],
    )


def test_an_incomplete_daily_sync_is_a_warning(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=2 * D)
    run = add_run(log_db, "daily", "incomplete", ago=1 * H, incomplete_windows=["updateDate"])
    assert health(log_db) == (
        1,
        [
            f"WARNING: last daily sync (daily sync run {run.id}, {utc(run.started_at)}) was "
            "incomplete: 1 window(s) not verified; the next sync covers them again"
        ],
    )


@pytest.mark.parametrize(
    ("age", "every", "code", "level", "limit"),
    [
        (7.5 * D, "7", 0, None, None),
        (9 * D, "7", 1, "WARNING", "8.0"),
        (17 * D, "7", 2, "CRITICAL", "16.0"),
        (3 * D, "1", 1, "WARNING", "2.0"),
        (5 * D, "1", 2, "CRITICAL", "4.0"),
    ],
)
def test_the_age_of_the_last_complete_pass_follows_the_reconcile_interval(
    log_db: str, age: timedelta, every: str, code: int, level: str | None, limit: str | None
) -> None:
    run = add_run(log_db, "reconcile", "completed", ago=age, seconds=0)
    add_run(log_db, "daily", "completed", ago=1 * H)
    got_code, lines = health(log_db, HOTSTAR_RECONCILE_EVERY_DAYS=every)
    assert got_code == code
    if level is None:
        assert lines[0].startswith("OK: ")
    else:
        assert lines == [
            f"{level}: last complete pass (reconcile run {run.id}) finished "
            f"{age / D:.1f} days ago ({utc(run.completed_at)}), over the {limit} days limit"
        ]


def test_daily_syncs_without_any_complete_pass_are_critical(log_db: str) -> None:
    add_run(log_db, "initial", "failed", ago=2 * D, errors=["HTTP 403 even with a fresh token"])
    add_run(log_db, "daily", "completed", ago=1 * H)
    code, lines = health(log_db)
    assert code == 2
    assert lines[0] == "CRITICAL: no complete pass has finished: run `hotstar-sync ingest`"


def test_an_unreadable_database_is_unknown() -> None:
    code, lines = health("postgresql://nobody:pw-never-shown@127.0.0.1:1/x")
    assert code == 3
    assert len(lines) == 1
    assert lines[0].startswith("UNKNOWN: cannot connect to the source database: ")
    assert "pw-never-shown" not in lines[0]


def test_a_database_without_the_schema_is_unknown(empty_db_url: str) -> None:
    assert health(empty_db_url) == (
        3,
        ['UNKNOWN: cannot read the sync log: relation "hotstar_sync_log" does not exist'],
    )


def test_a_bad_setting_is_unknown_too(log_db: str) -> None:
    assert health(log_db, HOTSTAR_RECONCILE_EVERY_DAYS="soon") == (
        3,
        [
            "UNKNOWN: HOTSTAR_RECONCILE_EVERY_DAYS: Input should be a valid number, "
            "unable to parse string as a number"
        ],
    )


# -- the pure rules, without a database ---------------------------------------------------

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def run(id: int, sync_type: str, status: str, hours_ago: float) -> RunRow:
    started = NOW - timedelta(hours=hours_ago)
    return RunRow(id, sync_type, status, started, started)


def test_the_limits_are_exclusive() -> None:
    history = History(
        NOW,
        True,
        last_daily=run(2, "daily", "completed", 26),
        last_complete_pass=run(1, "initial", "completed", 8 * 24),
        last_pass=run(1, "initial", "completed", 8 * 24),
    )
    assert evaluate(history, Limits.for_reconcile_every(7)).level is Level.OK


def test_the_worst_finding_decides_the_level() -> None:
    history = History(
        NOW,
        True,
        last_daily=run(3, "daily", "incomplete", 1),
        last_complete_pass=run(1, "initial", "completed", 9 * 24),
        last_pass=run(2, "reconcile", "refused", 2),
        running=(run(4, "reconcile", "running", 7.5),),
        job_running=True,
    )
    report = evaluate(history, Limits.for_reconcile_every(7))
    assert [f.level for f in report.findings] == [
        Level.CRITICAL,
        Level.WARNING,
        Level.WARNING,
        Level.WARNING,
    ]
    assert report.level is Level.CRITICAL
    assert report.lines()[0] == (
        "CRITICAL: reconcile run 4 stuck in 'running' for 7.5 h (started 2026-01-10 04:30:00 UTC)"
    )


def test_a_type_loading_for_the_first_time_beside_others_is_not_critical(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=2 * H)
    add_run(log_db, "initial", "running", ago=1.5 * H, content_type="episode")
    with job_running(log_db):
        code, lines = health(log_db)
    assert code == 0
    assert lines[0].startswith("OK: episode: first load running for 1.5 h (started ")
    assert lines[1].startswith("OK: movie: last daily sync completed 2.0 h ago")


def test_the_very_first_load_is_ok_while_it_runs_and_critical_once_it_fails(log_db: str) -> None:
    # A single-type database before its first complete pass: the ingest of the whole
    # catalogue at 1 request/s takes about an hour, and is no reason to alert.
    first = add_run(log_db, "initial", "running", ago=0.5 * H)
    with job_running(log_db):
        assert health(log_db) == (
            0,
            [f"OK: first load running for 0.5 h (started {utc(first.started_at)})"],
        )
    # Its process died: no job holds the lock.
    code, lines = health(log_db)
    assert code == 2
    assert lines[0].startswith(f"CRITICAL: initial run {first.id} left in 'running'")
    with psycopg.connect(log_db) as conn:  # it failed, nine hours ago
        row = conn.execute(
            "UPDATE hotstar_sync_log SET status = 'failed', started_at = now() - interval '9 h',"
            " completed_at = now() - interval '8 h' WHERE id = %s RETURNING completed_at",
            (first.id,),
        ).fetchone()
    assert row is not None
    assert health(log_db) == (
        2,
        [
            f"CRITICAL: first load not complete: initial run {first.id} was failed at "
            f"{utc(row[0])}; run `hotstar-sync ingest` for this type"
        ],
    )
    # A rerun resumes that run (the same row): OK again while it runs, not "stuck for 9 h".
    with psycopg.connect(log_db, autocommit=True) as conn:
        resumed = resumable_run(conn, "initial", "movie")
        assert resumed is not None and resumed.id == first.id
    with job_running(log_db):
        code, lines = health(log_db)
    assert code == 0 and len(lines) == 1
    assert lines[0].startswith("OK: first load running for 0.0 h (resumed ")


def test_a_first_load_that_failed_beside_others_is_a_warning(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=3 * D)
    add_run(log_db, "daily", "completed", ago=2 * H)
    failed = add_run(log_db, "initial", "failed", ago=5 * H, content_type="episode")
    assert health(log_db) == (
        1,
        [
            f"WARNING: episode: first load not complete: initial run {failed.id} was failed "
            f"at {utc(failed.completed_at)}; run `hotstar-sync ingest` for this type"
        ],
    )

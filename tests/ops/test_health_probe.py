"""`health` reports what the last daily sync's count probe found."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg.types.json import Jsonb

from tests.ops.conftest import add_run, cli

H = timedelta(hours=1)
D = timedelta(days=1)


def probed(db_url: str, run_id: int, **probe: int | bool) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE hotstar_sync_log SET details = %s WHERE id = %s",
            (Jsonb({"probe": probe}), run_id),
        )


def test_a_repaired_drift_is_reported_in_the_ok_line(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=2 * D)
    run = add_run(log_db, "daily", "completed", ago=3 * H)
    probed(log_db, run.id, drift=-1, api_total=51_494, mirror_total=51_495, missing=0, vanished=1)
    result = cli(log_db, "health")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "OK: last daily sync completed 3.0 h ago; its count probe found drift -1 (API 51,494, "
        "mirror 51,495): 0 missing item(s) stored, 1 row(s) vanished; last complete pass 2.0 "
        "days ago"
    ]


def test_a_drift_too_far_to_narrow_down_says_a_reconcile_ran_not_0_vanished(log_db: str) -> None:
    run = add_run(log_db, "daily", "completed", ago=3 * H)
    add_run(log_db, "reconcile", "completed", ago=2 * H, items_deleted=24)
    probed(
        log_db,
        run.id,
        drift=-25,
        api_total=51_470,
        mirror_total=51_495,
        missing=0,
        vanished=0,
        fell_back=True,
    )
    result = cli(log_db, "health")
    assert result.stdout.splitlines() == [
        "OK: last daily sync completed 3.0 h ago; its count probe found drift -25 (API 51,470, "
        "mirror 51,495), too far to narrow down: a reconcile ran instead; last complete pass "
        "0.1 days ago"
    ]


def test_a_probe_held_back_by_the_guard_is_a_warning(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=2 * D)
    run = add_run(log_db, "daily", "refused", ago=3 * H)
    probed(
        log_db,
        run.id,
        drift=-450,
        api_total=51_045,
        mirror_total=51_495,
        missing=0,
        vanished=0,
        would_vanish=450,
        refused=True,
    )
    result = cli(log_db, "health")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(
        f"WARNING: deletion guard tripped: the count probe of daily sync run {run.id} ("
    )
    assert "found 450 vanished row(s) and deleted nothing" in result.stdout

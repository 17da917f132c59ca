"""Compare a mirror table in PostgreSQL with the simulator's ground truth, for any type."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from hotstar_sync.model.content import CONTENT_TYPES
from hotstar_sync.simulator import Truth


def rows_of(db_url: str, kind: str) -> dict[str, dict[str, Any]]:
    table = CONTENT_TYPES[kind].table
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"SELECT * FROM {table}")  # a table name from the model, not input
        return {row["content_id"]: row for row in cur.fetchall()}


def mirror_rows(db_url: str) -> dict[str, dict[str, Any]]:
    return rows_of(db_url, "movie")


def expected_reason(status: str, end_date: int, now: float) -> str | None:
    if status == "UNPUBLISHED":
        return "unpublished"
    if 0 < end_date < now:
        return "expired"
    return None


def assert_type_matches(db_url: str, kind: str, truth: Truth, now: float | None = None) -> None:
    """Every well-formed item exactly once, raw JSON whole, live exactly when it should be,
    and every row the API no longer serves soft-deleted as vanished."""
    now = time.time() if now is None else now
    rows = rows_of(db_url, kind)
    clashing = {cid for ids in truth.id_clashes.values() for cid in ids[1:]}
    expected = {
        cid: t for cid, t in truth.items.items() if t.malformed is None and cid not in clashing
    }
    missing = sorted(set(expected) - set(rows))
    assert not missing, f"{kind}: {len(missing)} items missing from the mirror, e.g. {missing[:5]}"
    for cid, t in expected.items():
        row = rows[cid]
        assert row["raw_response"] == t.item, f"{kind} {cid}: raw_response differs"
        reason = expected_reason(t.status, t.end_date, now)
        assert row["deleted_reason"] == reason, f"{kind} {cid}: {row['deleted_reason']} != {reason}"
        assert row["is_deleted"] == (reason is not None)
    gone = set(rows) - set(truth.items)
    live = sorted(cid for cid in gone if rows[cid]["deleted_reason"] != "vanished")
    assert not live, f"{kind}: rows the API no longer serves are not vanished: {live[:5]}"


def assert_mirror_matches(db_url: str, truth: Truth, now: float | None = None) -> None:
    assert_type_matches(db_url, "movie", truth, now)

"""Compare a mirror in PostgreSQL with the simulator's ground truth."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from hotstar_sync.simulator import Truth


def mirror_rows(db_url: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            "SELECT content_id, hotstar_id, title, start_date, end_date, asset_status,"
            " raw_response, is_deleted, deleted_reason FROM hotstar_movies"
        )
        return {row["content_id"]: row for row in cur.fetchall()}


def expected_reason(status: str, end_date: int, now: float) -> str | None:
    if status == "UNPUBLISHED":
        return "unpublished"
    if 0 < end_date < now:
        return "expired"
    return None


def assert_mirror_matches(db_url: str, truth: Truth, now: float | None = None) -> None:
    """Every well-formed item exactly once, raw JSON whole, live exactly when it should be."""
    now = time.time() if now is None else now
    rows = mirror_rows(db_url)
    clashing = {cid for ids in truth.id_clashes.values() for cid in ids[1:]}
    expected = {
        cid: t for cid, t in truth.items.items() if t.malformed is None and cid not in clashing
    }
    missing = sorted(set(expected) - set(rows))
    assert not missing, f"{len(missing)} items missing from the mirror, e.g. {missing[:5]}"
    for cid, t in expected.items():
        row = rows[cid]
        assert row["raw_response"] == t.item, f"{cid}: raw_response differs"
        reason = expected_reason(t.status, t.end_date, now)
        assert row["deleted_reason"] == reason, f"{cid}: {row['deleted_reason']} != {reason}"
        assert row["is_deleted"] == (reason is not None)
    gone = set(rows) - set(truth.items)
    assert all(rows[cid]["deleted_reason"] == "vanished" for cid in gone), "live row not in the API"

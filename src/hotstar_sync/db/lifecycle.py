"""Changes to the mirror that no fetched page carries: expiry by the clock, and vanishing.

- An endDate passing changes no updateDate, so no sync would ever fetch it: expiry (and its
  undoing, for a row whose endDate is no longer past) is evaluated over the mirror itself.
- An item that stops being returned leaves no trace in the API: a complete pass that did not
  see it marks it 'vanished'.
Each change lands in the change log and the run's counters in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg
from psycopg import sql

from hotstar_sync.db.connect import lost_hint
from hotstar_sync.db.runs import WRITING
from hotstar_sync.errors import DatabaseError, DeletionGuardError
from hotstar_sync.model.content import ContentType
from hotstar_sync.model.guard import DeletionBudget

Conn = psycopg.Connection[Any]

_EXPIRE = """
WITH changed AS (
  UPDATE {table} SET is_deleted = true, deleted_reason = 'expired', deleted_at = now(),
                     last_changed_run_id = %(run)s
  WHERE NOT is_deleted AND {end} > 0 AND {end} < %(now)s
  RETURNING {key} AS key
), restored AS (
  UPDATE {table} SET is_deleted = false, deleted_reason = NULL, deleted_at = NULL,
                     last_changed_run_id = %(run)s
  WHERE deleted_reason = 'expired' AND NOT ({end} > 0 AND {end} < %(now)s)
  RETURNING {key} AS key
), logged AS (
  INSERT INTO hotstar_change_log (run_id, content_type, content_id, change, reason)
  SELECT %(run)s, %(kind)s, key, 'delete', 'expired' FROM changed
  UNION ALL
  SELECT %(run)s, %(kind)s, key, 'restore', 'expired' FROM restored
)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM restored)
"""

_DUE_TO_EXPIRE = (
    "SELECT count(*) FROM {table} WHERE NOT is_deleted AND {end} > 0 AND {end} < %(now)s"
)
_LIVE = "SELECT count(*) FROM {table} WHERE NOT is_deleted"

_VANISH = """
WITH changed AS (
  UPDATE {table} m SET is_deleted = true, deleted_reason = 'vanished',
                       deleted_at = CASE WHEN m.is_deleted THEN m.deleted_at ELSE now() END,
                       last_changed_run_id = %(run)s
  FROM (SELECT {key}, is_deleted AS was_deleted FROM {table}
        WHERE {key} = ANY(%(ids)s) AND deleted_reason IS DISTINCT FROM 'vanished') old
  WHERE m.{key} = old.{key}
  RETURNING m.{key} AS key, old.was_deleted
), logged AS (
  INSERT INTO hotstar_change_log (run_id, content_type, content_id, change, reason)
  SELECT %(run)s, %(kind)s, key, 'delete', 'vanished' FROM changed
)
SELECT count(*) FILTER (WHERE NOT was_deleted) FROM changed
"""

_COUNTS = """
UPDATE hotstar_sync_log SET items_deleted = coalesce(items_deleted, 0) + %(deleted)s,
                            items_restored = coalesce(items_restored, 0) + %(restored)s
WHERE id = %(run)s
"""


def _compose(kind: ContentType, template: str) -> sql.Composed:
    end = kind.by_field[kind.end_field].column if kind.end_field else None
    return sql.SQL(template).format(
        table=sql.Identifier(kind.table),
        key=sql.Identifier(kind.id_column),
        end=sql.Identifier(end) if end else sql.SQL("NULL"),
    )


def _scalar(conn: Conn, doing: str, statement: sql.Composed, params: dict[str, Any]) -> int:
    try:
        with conn.transaction(), conn.cursor() as cur:
            row = cur.execute(statement, params).fetchone()
        return int(row[0]) if row else 0
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot {doing}: {exc.diag.message_primary or exc}") from exc


def _run(
    conn: Conn, doing: str, statement: sql.Composed, params: dict[str, Any]
) -> tuple[Any, ...]:
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(WRITING)
            cur.execute(statement, params)
            row = cur.fetchone()
            assert row is not None
            counts = {"deleted": row[0], "restored": row[1] if len(row) > 1 else 0}
            cur.execute(_COUNTS, counts | {"run": params["run"]})
            return tuple(row)
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot {doing} for run {params['run']}: {exc.diag.message_primary or exc}",
            hint=lost_hint(exc),
        ) from exc


def expire_and_restore(
    conn: Conn, kind: ContentType, run_id: int, now: float, guard: DeletionBudget | None = None
) -> tuple[int, int]:
    """Soft-delete live rows whose endDate has passed; restore 'expired' rows whose endDate
    is no longer past. Returns (expired, restored). Expiring more than `guard` allows
    raises `DeletionGuardError`, changing nothing."""
    if kind.end_field is None:
        return 0, 0
    params = {"run": run_id, "kind": kind.name, "now": int(now)}
    if guard is not None:
        due = _scalar(conn, "count the rows due to expire", _compose(kind, _DUE_TO_EXPIRE), params)
        if not guard.take(due):
            raise DeletionGuardError(
                f"{kind.name} run {run_id} would expire {due:,} more live rows "
                f"({guard.used:,} deleted so far), more than {guard.fraction:.0%} of "
                f"{guard.live_rows:,} in one run; nothing was expired",
                content_type=kind.name,
                run_id=run_id,
                would_delete=guard.used + due,
                live_rows=guard.live_rows,
            )
    expired, restored = _run(conn, "evaluate expiry", _compose(kind, _EXPIRE), params)
    return int(expired), int(restored)


def live_rows(conn: Conn, kind: ContentType) -> int:
    """The type's live rows: the deletion guard's base."""
    return _scalar(conn, "count the live rows", _compose(kind, _LIVE), {})


def vanish(conn: Conn, kind: ContentType, run_id: int, content_ids: Collection[str]) -> int:
    """Mark rows 'vanished'; returns how many of them were live."""
    if not content_ids:
        return 0
    params = {"run": run_id, "kind": kind.name, "ids": list(content_ids)}
    (live,) = _run(conn, "mark vanished items", _compose(kind, _VANISH), params)
    return int(live)


def present_rows(conn: Conn, kind: ContentType) -> dict[str, tuple[int | None, bool]]:
    """Every row the API should still return (all but 'vanished' ones): contentId ->
    (startDate, live)."""
    start = kind.by_field["startDate"].column
    statement = sql.SQL(
        "SELECT {key}, {start}, NOT is_deleted FROM {table}"
        " WHERE deleted_reason IS DISTINCT FROM 'vanished'"
    ).format(
        key=sql.Identifier(kind.id_column),
        start=sql.Identifier(start),
        table=sql.Identifier(kind.table),
    )
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            rows = {key: (sd, live) for key, sd, live in cur}
        conn.commit()
        return rows
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the mirror: {exc.diag.message_primary or exc}") from exc


def quarantined(conn: Conn, kind: ContentType) -> dict[str, int | None]:
    """Unresolved quarantined items (the API returns them; the mirror cannot hold them):
    item key -> startDate when it is a number."""
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT item_key, CASE WHEN jsonb_typeof(raw_item -> 'startDate') = 'number'"
                " THEN (raw_item ->> 'startDate')::numeric::bigint END"
                " FROM hotstar_quarantine WHERE content_type = %s AND resolved_at IS NULL",
                (kind.name,),
            )
            rows = dict(cur.fetchall())
        conn.commit()
        return rows
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the quarantine: {exc.diag.message_primary}") from exc


def resolve_quarantined(conn: Conn, kind: ContentType, keys: Collection[str]) -> None:
    """Quarantined items the API no longer returns are resolved: nothing is left to fix."""
    if not keys:
        return
    try:
        with conn.transaction():
            conn.execute(WRITING)
            conn.execute(
                "UPDATE hotstar_quarantine SET resolved_at = now()"
                " WHERE content_type = %s AND item_key = ANY(%s) AND resolved_at IS NULL",
                (kind.name, list(keys)),
            )
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot resolve quarantined items: {exc.diag.message_primary}"
        ) from exc

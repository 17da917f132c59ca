"""The seed's monitoring queries ("latest sync status", "daily statistics") and their JSON.

`runs` extends the seed's latest-sync query with the columns added since (content type,
restored, quarantined, errors) and the size of the run's table after each run. That size is
counted back from the table's exact size now, run by run, with the counters of each later
run of the same type (rows after a run = rows now - rows added by later runs; live rows
likewise with added + restored - deleted), so the newest point is exact and the history
costs no scan of the change log.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from hotstar_sync.db.runs import stale_rows_of
from hotstar_sync.errors import DatabaseError
from hotstar_sync.model import CONTENT_TYPES

JSONValue = Any

# Each content type's table: its rows and live rows now.
_TABLES = " UNION ALL ".join(
    sql.SQL(
        "SELECT {} AS content_type, count(*) AS total_rows,"
        " count(*) FILTER (WHERE NOT is_deleted) AS live_rows FROM {}"
    )
    .format(sql.Literal(kind.name), sql.Identifier(kind.table))
    .as_string(None)
    for kind in CONTENT_TYPES.values()
)

# Each content type's stale rows: stored rows whose latest answer is quarantined, so the
# mirror holds an older version (an item once valid, now malformed; an id another row
# holds), and since when the oldest has been so.
STALE = " UNION ALL ".join(
    sql.SQL("SELECT {} AS content_type, count(*) AS rows, min(q.first_seen_at) AS since ")
    .format(sql.Literal(kind.name))
    .as_string(None)
    + stale_rows_of(kind)
    for kind in CONTENT_TYPES.values()
)

RUNS = (
    """
WITH mirror AS ("""
    + _TABLES
    + """), log AS (
  SELECT id, sync_type, content_type, status, started_at, completed_at, duration_seconds,
         total_items_fetched, items_added, items_updated, items_deleted, items_restored,
         items_quarantined, api_requests_made, error_count,
         CASE jsonb_typeof(errors) WHEN 'array' THEN errors -> -1 #>> '{}' END AS reason,
         CASE jsonb_typeof(details -> 'stale_rows')
           WHEN 'number' THEN (details ->> 'stale_rows')::bigint END AS stale_rows,
         coalesce(sum(coalesce(items_added, 0)) OVER later, 0) AS added_later,
         coalesce(sum(coalesce(items_added, 0) + coalesce(items_restored, 0)
                      - coalesce(items_deleted, 0)) OVER later, 0) AS live_gain_later
  FROM hotstar_sync_log
  WINDOW later AS (PARTITION BY content_type ORDER BY id DESC
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT log.id, sync_type, content_type, status, started_at, completed_at, duration_seconds,
       total_items_fetched, items_added, items_updated, items_deleted, items_restored,
       items_quarantined, api_requests_made, error_count, reason, stale_rows,
       mirror.total_rows - added_later AS mirror_rows,
       mirror.live_rows - live_gain_later AS mirror_live
FROM log LEFT JOIN mirror USING (content_type)
ORDER BY started_at DESC, log.id DESC
LIMIT %s
"""
)

# The seed's "Get daily statistics" query, unchanged but for the parameterised limit.
DAILY_STATS = """
SELECT
  DATE(started_at) as date,
  COUNT(*) as syncs,
  SUM(items_added) as total_added,
  SUM(items_updated) as total_updated,
  SUM(items_deleted) as total_deleted,
  AVG(duration_seconds) as avg_duration
FROM hotstar_sync_log
WHERE sync_type = 'daily'
AND status = 'completed'
GROUP BY DATE(started_at)
ORDER BY date DESC
LIMIT %s
"""

CHANGES = """
SELECT id, run_id, content_type, content_id, change, changed_fields, reason, changed_at
FROM hotstar_change_log
WHERE changed_at >= %s AND id > %s
ORDER BY id
LIMIT %s
"""

MIRROR = (
    "SELECT coalesce(sum(live_rows), 0) AS live, coalesce(sum(total_rows - live_rows), 0)"
    " AS deleted FROM (" + _TABLES + ") t"
)


Conn = psycopg.Connection[Any]


def _query(conn: Conn, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot read the source database: {exc.diag.message_primary or exc}",
            hint="run `hotstar-sync db upgrade` if the schema is missing",
        ) from exc


def runs(conn: Conn, limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` runs, newest first, with the mirror's size after each."""
    return _query(conn, RUNS, (limit,))


def daily_stats(conn: Conn, days: int = 30) -> list[dict[str, Any]]:
    """Completed daily syncs per day, newest first (the seed's query)."""
    return _query(conn, DAILY_STATS, (days,))


def changes(
    conn: Conn, since: datetime, *, after_id: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """Change-log rows at or after `since` (and after id `after_id`, to page), oldest first."""
    return _query(conn, CHANGES, (since, after_id, limit))


def mirror_size(conn: Conn) -> dict[str, int]:
    """Live and soft-deleted rows of the mirror now, every content type's table together."""
    (row,) = _query(conn, MIRROR, ())
    return {"live": int(row["live"]), "deleted": int(row["deleted"])}


def mirror_size_by_type(conn: Conn) -> dict[str, dict[str, int]]:
    """Live and soft-deleted rows of each content type's table now."""
    return {
        row["content_type"]: {
            "live": int(row["live_rows"]),
            "deleted": int(row["total_rows"] - row["live_rows"]),
        }
        for row in _query(conn, _TABLES, ())
    }


def stale_rows(conn: Conn) -> dict[str, dict[str, Any]]:
    """The types with stale rows: how many, and since when the oldest is (`STALE`)."""
    return {
        row["content_type"]: {"rows": int(row["rows"]), "since": row["since"]}
        for row in _query(conn, STALE, ())
        if row["rows"]
    }


def to_json(value: JSONValue) -> JSONValue:
    """Rows as JSON can carry them: times in ISO 8601, numerics as floats."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return round(float(value), 1)
    return value

"""Reading the change log: the feed the main content database is updated from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hotstar_sync.errors import DatabaseError

CHANGES = ("insert", "update", "delete", "restore")

_QUERY = """
SELECT id, run_id, content_type, content_id, change, changed_fields, reason, changed_at
FROM hotstar_change_log
WHERE (%(run)s::bigint IS NULL OR run_id > %(run)s)
  AND (%(time)s::timestamptz IS NULL OR changed_at >= %(time)s)
  AND (%(change)s::text IS NULL OR change = %(change)s)
ORDER BY id
"""


def changes_since(
    conn: psycopg.Connection[Any],
    *,
    run_id: int | None = None,
    since: datetime | None = None,
    change: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Changes made by runs after `run_id`, or at or after `since`, oldest first (streamed)."""
    try:
        with conn.cursor(name="changes", row_factory=dict_row) as cur:
            cur.execute(_QUERY, {"run": run_id, "time": since, "change": change})
            yield from cur
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot read the change log: {exc.diag.message_primary}",
            hint="run `hotstar-sync db upgrade` if the schema is missing",
        ) from exc

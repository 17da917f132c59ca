"""Runs in `hotstar_sync_log`, their window checkpoints, and the one-job-per-database lock.

A job holds a PostgreSQL advisory lock on a connection of its own for as long as it runs, so
two jobs never write one mirror at once; a 'running' row whose job no longer holds the lock
was left by a killed process and is marked 'abandoned' by the next job to start.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from hotstar_sync.db.connect import connect
from hotstar_sync.errors import DatabaseError, JobLockedError
from hotstar_sync.model import CONTENT_TYPES
from hotstar_sync.model.windows import ItemMark, Window, WindowResult

log = structlog.get_logger(__name__)

#: pg_advisory_lock key of hotstar-sync jobs ("hsync" in ASCII).
JOB_LOCK_KEY = 0x6873796E63

Conn = psycopg.Connection[Any]


@contextmanager
def job_lock(url: str) -> Iterator[Conn]:
    """Hold the database's job lock; raise `JobLockedError` if another job has it."""
    conn = connect(url, autocommit=True)
    try:
        try:
            locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (JOB_LOCK_KEY,)).fetchone()
            if locked and locked[0]:
                left = conn.execute(
                    "UPDATE hotstar_sync_log SET status = 'abandoned', completed_at = now(),"
                    " duration_seconds = extract(epoch FROM now() - started_at)::int"
                    " WHERE status = 'running' RETURNING id, content_type, sync_type, started_at"
                ).fetchall()
                for run_id, kind, sync_type, started in left:
                    log.warning(
                        "run marked abandoned: its process ended without finishing",
                        run=run_id,
                        type=kind,
                        sync_type=sync_type,
                        started_at=started.isoformat(timespec="seconds"),
                    )
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot take the job lock: {exc.diag.message_primary or exc}",
                hint="run `hotstar-sync db upgrade` if the schema is missing",
            ) from exc
        if not locked or not locked[0]:
            raise JobLockedError(
                "another hotstar-sync job is running on this database",
                hint="wait for it to finish; `hotstar-sync status` shows it",
            )
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class Run:
    id: int
    sync_type: str
    content_type: str
    started_at: datetime
    to_update_date: int | None
    resumed: bool = False


def start_run(
    conn: Conn,
    sync_type: str,
    content_type: str,
    *,
    from_update_date: int | None = None,
    to_update_date: int | None = None,
) -> Run:
    row = _one(
        conn,
        "INSERT INTO hotstar_sync_log (sync_type, content_type, started_at, status,"
        " from_update_date, to_update_date, pid, hostname)"
        " VALUES (%s, %s, now(), 'running', %s, %s, %s, %s)"
        " RETURNING id, started_at",
        (sync_type, content_type, from_update_date, to_update_date, os.getpid(), _host()),
    )
    return Run(row["id"], sync_type, content_type, row["started_at"], to_update_date)


def resumable_run(conn: Conn, sync_type: str, content_type: str) -> Run | None:
    """The newest run of this kind, when it ended without finishing (killed or failed)."""
    row = _one(
        conn,
        "SELECT id, status, started_at, to_update_date FROM hotstar_sync_log"
        " WHERE sync_type = %s AND content_type = %s ORDER BY id DESC LIMIT 1",
        (sync_type, content_type),
        required=False,
    )
    if not row or row["status"] not in ("abandoned", "failed"):
        return None
    _one(
        conn,
        # `resumed_at`: health measures a running run's age from it, not from the start.
        "UPDATE hotstar_sync_log SET status = 'running', completed_at = NULL, pid = %s,"
        " hostname = %s, details = coalesce(details, '{}'::jsonb)"
        " || jsonb_build_object('resumed_at', now()) WHERE id = %s RETURNING id",
        (os.getpid(), _host(), row["id"]),
    )
    return Run(row["id"], sync_type, content_type, row["started_at"], row["to_update_date"], True)


def finish_run(
    conn: Conn,
    run: Run,
    status: str,
    *,
    requests: int,
    errors: list[str],
    incomplete_windows: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Close a run; its item counts were kept up to date page by page by the writer."""
    _one(
        conn,
        "UPDATE hotstar_sync_log SET status = %s, completed_at = now(),"
        " duration_seconds = extract(epoch FROM now() - started_at)::int,"
        " api_requests_made = coalesce(api_requests_made, 0) + %s,"
        " errors = CASE WHEN %s::jsonb = '[]' THEN errors"
        "   ELSE coalesce(errors, '[]'::jsonb) || %s::jsonb END,"
        " error_count = coalesce(error_count, 0) + %s,"
        " incomplete_windows = %s,"
        # Distinct items, not sightings: a bad item seen on two pages is one item.
        " items_quarantined = (SELECT count(*) FROM hotstar_quarantine"
        "   WHERE last_run_id = hotstar_sync_log.id),"
        " details = coalesce(details, '{}'::jsonb) || %s::jsonb"
        + _stale_rows(run)
        + " WHERE id = %s RETURNING id",
        (
            status,
            requests,
            Jsonb(errors),
            Jsonb(errors),
            len(errors),
            Jsonb(incomplete_windows) if incomplete_windows else None,
            Jsonb(details or {}),
            run.id,
        ),
    )


def _stale_rows(run: Run) -> str:
    """`details.stale_rows`: the stored rows whose answer in this run was quarantined, so
    the mirror holds an older version of them (an item once valid, now malformed; an id
    another row holds). Nothing for a run of a type this version does not know."""
    kind = CONTENT_TYPES.get(run.content_type)
    if kind is None:
        return ""
    return (
        sql.SQL(
            " || jsonb_build_object('stale_rows', (SELECT count(*) FROM hotstar_quarantine q"
            " JOIN {table} m ON m.{key} = q.item_key WHERE q.content_type = {kind}"
            " AND q.last_run_id = hotstar_sync_log.id AND q.resolved_at IS NULL))"
        )
        .format(
            table=sql.Identifier(kind.table),
            key=sql.Identifier(kind.id_column),
            kind=sql.Literal(kind.name),
        )
        .as_string(None)
    )


# -- checkpoints ------------------------------------------------------------------------


def checkpoint_filters(result: WindowResult) -> dict[str, Any]:
    """What a checkpoint keeps of a window: enough to skip it, or reuse its split plan."""
    return {
        "window": result.window.to_json(),
        "owned": result.owned,
        "edge": [m.to_json() for m in result.edge.values()],
        "children": None if result.children is None else [c.to_json() for c in result.children],
    }


def load_checkpoints(conn: Conn, run_id: int) -> dict[str, WindowResult]:
    rows = _all(
        conn,
        "SELECT window_key, status, filters, total_results, requests"
        " FROM hotstar_sync_windows WHERE run_id = %s",
        (run_id,),
    )
    out = {}
    for row in rows:
        f = row["filters"]
        children = f.get("children")
        out[row["window_key"]] = WindowResult(
            window=Window.from_json(f["window"]),
            total=row["total_results"],
            owned=f.get("owned", 0),
            edge={m.ident: m for m in (ItemMark(*e) for e in f.get("edge", []))},
            verified=row["status"] == "done",
            requests=row["requests"] or 0,
            children=None if children is None else [Window.from_json(c) for c in children],
            is_plan=row["status"] == "split",
        )
    return out


def _host() -> str:
    return socket.gethostname()


def _one(
    conn: Conn,
    sql: str,
    params: tuple[Any, ...],
    *,
    required: bool = True,
) -> dict[str, Any]:
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
        if not conn.autocommit:
            conn.commit()
    except psycopg.Error as exc:
        if not conn.autocommit:
            conn.rollback()
        raise DatabaseError(f"sync log: {exc.diag.message_primary or exc}") from exc
    if row is None and required:
        raise DatabaseError(f"sync log: no row for {params!r}")
    return row if row is not None else {}


def _all(conn: Conn, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    except psycopg.Error as exc:
        raise DatabaseError(f"checkpoints: {exc.diag.message_primary or exc}") from exc

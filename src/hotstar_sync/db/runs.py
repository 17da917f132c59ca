"""Runs in `hotstar_sync_log`, their window checkpoints, and the one-job-per-database lock.

A job holds a PostgreSQL advisory lock on a connection of its own for as long as it runs, so
two jobs never write one mirror at once; a 'running' row whose job no longer holds the lock
was left by a killed process and is marked 'abandoned' by the next job to start.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from hotstar_sync.db.connect import connect
from hotstar_sync.errors import DatabaseError, JobLockedError, JobLockLostError
from hotstar_sync.model import CONTENT_TYPES, ContentType
from hotstar_sync.model.windows import ItemMark, Window, WindowResult

log = structlog.get_logger(__name__)

#: pg_advisory_lock key of hotstar-sync jobs ("hsync" in ASCII).
JOB_LOCK_KEY = 0x6873796E63

Conn = psycopg.Connection[Any]


#: Held (shared) by every transaction that writes the mirror; a job taking the job lock
#: takes it exclusively once, so a page still in flight from a job that lost its lock
#: commits or rolls back before the new job writes anything.
WRITE_LOCK_KEY = JOB_LOCK_KEY + 1
#: The first statement of a write transaction.
WRITING = f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK_KEY})"
#: How often a job checks its lock between writes (`JobLock`).
HEARTBEAT_SECONDS = 2.0
_TAKE = "SELECT pg_try_advisory_lock(%(key)s)"
#: The pg_locks row of the job lock held in this database (a bigint advisory key %(key)s:
#: its high and low 32 bits).
JOB_LOCK_ROW = """
locktype = 'advisory' AND granted AND objsubid = 1
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
AND classid::bigint = (%(key)s::bigint >> 32) & 4294967295
AND objid::bigint = %(key)s::bigint & 4294967295
"""
# Whether this very connection holds the job lock.
_HELD = f"SELECT EXISTS (SELECT FROM pg_locks WHERE {JOB_LOCK_ROW} AND pid = pg_backend_pid())"
_RUNNING = "SELECT id, pid, hostname FROM hotstar_sync_log WHERE status = 'running'"
_ABANDON = """
UPDATE hotstar_sync_log SET status = 'abandoned', completed_at = now(),
  duration_seconds = extract(epoch FROM now() - started_at)::int
WHERE status = 'running' AND id = ANY(%(ids)s)
RETURNING id, content_type, sync_type, started_at
"""
# Since this job took the lock (the newest run then was %(mark)s): a run of another job,
# or one of this job's runs no longer its own (marked abandoned, or resumed by another).
_OTHERS_SINCE = """
SELECT EXISTS (SELECT FROM hotstar_sync_log WHERE id > %(mark)s AND pid IS DISTINCT FROM %(pid)s)
    OR EXISTS (SELECT FROM hotstar_sync_log WHERE id = ANY(%(ours)s)
               AND (status = 'abandoned' OR pid IS DISTINCT FROM %(pid)s
                    OR hostname IS DISTINCT FROM %(host)s))
"""
_NEWEST = "SELECT coalesce(max(id), 0) FROM hotstar_sync_log"


class JobLock:
    """The database's job lock (a session advisory lock), held on a connection of its own,
    which also writes the sync log (autocommit).

    The lock lives as long as that connection, which a server may close at any time
    (idle_session_timeout, a pooler, a restart, pg_terminate_backend). So every write of a
    job is preceded by `ensure`: it checks that the connection still holds the lock, and if
    not, takes it again on a new connection, unless another job has run since this job's
    first run began (then `JobLockLostError`, before anything more is written). Two jobs
    never write one mirror at once.

    A heartbeat (`HEARTBEAT_SECONDS`) runs the same check between writes, so the connection
    never idles long enough for idle_session_timeout to close it, and a lock lost otherwise
    is taken again within seconds, before a second job can take it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = connect(url, autocommit=True)
        #: The newest run when this job took the lock, and the runs it started or resumed.
        self.mark = 0
        self.runs: set[int] = set()
        self._mutex = threading.Lock()  # page writers and the heartbeat call `ensure`
        self._lost: JobLockLostError | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def take(self) -> None:
        """Take the lock, and mark abandoned the runs left 'running' by dead processes; raise
        `JobLockedError` if another job has it."""
        try:
            locked = self.conn.execute(_TAKE, {"key": JOB_LOCK_KEY}).fetchone()
            if locked and locked[0]:
                # Wait for any page a job that lost the lock still has in flight.
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                _abandon_dead(self.conn)
                newest = self.conn.execute(_NEWEST).fetchone()
                self.mark = int(newest[0]) if newest else 0
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

    def start_heartbeat(self, seconds: float = HEARTBEAT_SECONDS) -> None:
        self._heartbeat = threading.Thread(
            target=self._beat, args=(seconds,), name="job-lock-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def _beat(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.ensure()
            except JobLockLostError:
                return  # kept: the next write raises it
            except DatabaseError as exc:  # the server is away: the next beat tries again
                log.warning("job lock heartbeat failed", error=exc.message)

    def ensure(self) -> None:
        """Before a write: the lock is still this job's, or taken again (see the class)."""
        with self._mutex:
            if self._lost is not None:
                raise self._lost
            try:
                held = self.conn.execute(_HELD, {"key": JOB_LOCK_KEY}).fetchone()
                if held and held[0]:
                    return
                reason = "its connection no longer holds it"
            except psycopg.Error as exc:  # the connection is gone
                reason = (
                    f"its connection was lost ({exc.diag.message_primary or type(exc).__name__})"
                )
            self._retake(reason)

    def _retake(self, reason: str) -> None:
        with suppress(psycopg.Error):
            self.conn.close()
        conn = connect(self.url, autocommit=True)
        try:
            taken = conn.execute(_TAKE, {"key": JOB_LOCK_KEY}).fetchone()
            others = conn.execute(
                _OTHERS_SINCE,
                {"mark": self.mark, "ours": list(self.runs), "pid": os.getpid(), "host": _host()},
            ).fetchone() == (True,)
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseError(
                f"lost the job lock ({reason}) and cannot take it again: "
                f"{exc.diag.message_primary or exc}"
            ) from exc
        if not taken or not taken[0] or others:
            conn.close()
            self._lost = JobLockLostError(
                f"this job lost the database's job lock ({reason}), and another job "
                + ("holds it now" if not taken or not taken[0] else "has run meanwhile")
                + "; it stopped before writing anything more",
                hint="the other job's runs are in `hotstar-sync status`; this one's next "
                "run takes up where it stopped",
            )
            raise self._lost
        self.conn = conn
        log.warning("job lock taken again", reason=reason)

    def close(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        with self._mutex:
            self.conn.close()


def _abandon_dead(conn: Conn) -> None:
    """Mark abandoned the runs left 'running' whose process is gone: a run recorded on this
    host by a process that is still alive is left alone (it may have lost its lock and will
    notice before its next write); one recorded on another host is judged by the lock."""
    host = _host()
    dead = [
        run_id
        for run_id, pid, hostname in conn.execute(_RUNNING).fetchall()
        if not (hostname == host and pid is not None and _alive(pid))
    ]
    for run_id, kind, sync_type, started in conn.execute(_ABANDON, {"ids": dead}).fetchall():
        log.warning(
            "run marked abandoned: its process ended without finishing",
            run=run_id,
            type=kind,
            sync_type=sync_type,
            started_at=started.isoformat(timespec="seconds"),
        )


def _alive(pid: int) -> bool:
    """Whether `pid` is another live hotstar-sync process on this host."""
    if pid == os.getpid():
        return False  # an earlier job of this very process left it: it is not running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, someone else's
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"hotstar" in cmdline.read()  # not a pid reused by something else
    except OSError:
        return True


@contextmanager
def job_lock(url: str) -> Iterator[JobLock]:
    """Hold the database's job lock; raise `JobLockedError` if another job has it."""
    lock = JobLock(url)
    try:
        lock.take()
        lock.start_heartbeat()
        yield lock
    finally:
        lock.close()


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
    """Close a run; its item counts were kept up to date page by page by the writer. A run
    another process has taken over since (resumed it) is not this job's to close:
    `JobLockLostError`."""
    row = _one(
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
        + " WHERE id = %s AND (pid IS NULL OR pid = %s) AND (hostname IS NULL OR hostname = %s)"
        " RETURNING id",
        (
            status,
            requests,
            Jsonb(errors),
            Jsonb(errors),
            len(errors),
            Jsonb(incomplete_windows) if incomplete_windows else None,
            Jsonb(details or {}),
            run.id,
            os.getpid(),
            _host(),
        ),
        required=False,
    )
    if not row:
        raise JobLockLostError(
            f"run {run.id} was taken over by another process meanwhile; its end as {status} "
            "was not recorded"
        )


def _stale_rows(run: Run) -> str:
    """`details.stale_rows`: the stored rows whose answer in this run was quarantined, so
    the mirror holds an older version of them (an item once valid, now malformed; an id
    another row holds). Nothing for a run of a type this version does not know."""
    kind = CONTENT_TYPES.get(run.content_type)
    if kind is None:
        return ""
    return (
        " || jsonb_build_object('stale_rows', (SELECT count(*) "
        + stale_rows_of(kind)
        + " AND q.last_run_id = hotstar_sync_log.id))"
    )


def stale_rows_of(kind: ContentType) -> str:
    """`FROM ... WHERE` of a type's stale rows: stored rows (m) whose newest answer is in
    the quarantine (q), so the mirror holds an older version of them."""
    return (
        sql.SQL(
            "FROM hotstar_quarantine q JOIN {table} m ON m.{key} = q.item_key"
            " WHERE q.content_type = {kind} AND q.resolved_at IS NULL"
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

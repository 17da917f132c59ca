"""What every job shares: the job lock, connections, one client (one pacer for every request
of the session), and the bookkeeping of its runs in hotstar_sync_log."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import psycopg
import structlog

from hotstar_sync.api.client import PartnerClient, SearchPage
from hotstar_sync.api.scan import Partition, Scanner, ScanPage
from hotstar_sync.api.token import Token, TokenProvider
from hotstar_sync.config import Settings
from hotstar_sync.db import schema
from hotstar_sync.db.connect import connect, database_url
from hotstar_sync.db.lifecycle import live_rows
from hotstar_sync.db.runs import (
    Conn,
    JobLock,
    Run,
    finish_run,
    job_lock,
    resumable_run,
    start_run,
)
from hotstar_sync.db.tokens import record_token
from hotstar_sync.db.writer import PageCounts, PageWriter
from hotstar_sync.errors import (
    DatabaseError,
    FatalError,
    HotstarSyncError,
    JobLockLostError,
    Terminated,
)
from hotstar_sync.jobs.pipeline import PassTotals, run_pass
from hotstar_sync.model.content import ContentType
from hotstar_sync.model.guard import DeletionBudget
from hotstar_sync.model.windows import ItemMark, Window, WindowResult

log = structlog.get_logger(__name__)

R = TypeVar("R")


@dataclass
class Progress:
    """Hooks for a progress display; the CLI draws a bar, the default does nothing."""

    on_total: Callable[[int], None] = lambda total: None
    on_page: Callable[[ScanPage, PageCounts, int], None] = lambda page, counts, requests: None


@dataclass
class PassResult:
    """A scan written to the mirror: what it wrote, what it saw, whether it verified."""

    totals: PassTotals
    scanner: Scanner
    seen: set[str] = field(default_factory=set)

    @property
    def verified(self) -> bool:
        return self.scanner.result.verified

    @property
    def unverified(self) -> list[str]:
        return [r.window.key for r in self.scanner.unverified]


class RequestBook:
    """The requests of one run not yet added to its `api_requests_made`. Page writers take
    them with each page (in the page's transaction, given back if it rolls back), and the
    run's end takes the rest: a run killed, then resumed, counts every attempt's requests
    as it counts every attempt's items fetched."""

    def __init__(self, requests: Callable[[], int]) -> None:
        self._requests = requests
        self._booked = requests()
        self._mutex = threading.Lock()  # two page writers

    def take(self) -> int:
        with self._mutex:
            now = self._requests()
            taken, self._booked = now - self._booked, now
            return taken

    def give_back(self, count: int) -> None:
        with self._mutex:
            self._booked -= count


class Session:
    def __init__(
        self, settings: Settings, lock: JobLock, conn: Conn, client: PartnerClient
    ) -> None:
        self.settings = settings
        #: The job lock; every write is preceded by `lock.ensure()` (`db.runs.JobLock`).
        self.lock = lock
        self.conn = conn  # the writer's: one transaction per page
        self.client = client
        # A session's runs share one client: each run's errors start at an index of its
        # errors, and its requests are booked into its row page by page (`RequestBook`).
        self._errors: dict[int, int] = {}
        self._books: dict[int, RequestBook] = {}

    @property
    def lock_conn(self) -> Conn:
        """The lock's connection (autocommit): sync-log rows are visible at once."""
        return self.lock.conn

    def reset(self) -> None:
        """After a failed run: no transaction of it is left open on the session's writer
        connection for the next run to trip on."""
        try:
            self.conn.rollback()
        except psycopg.Error:
            log.warning("could not roll back the writer connection after a failed run")

    def start(
        self,
        sync_type: str,
        kind: ContentType,
        *,
        resume: bool = False,
        from_update_date: int | None = None,
        to_update_date: int | None = None,
    ) -> Run:
        self.lock.ensure()
        run = resumable_run(self.lock_conn, sync_type, kind.name) if resume else None
        run = run or start_run(
            self.lock_conn,
            sync_type,
            kind.name,
            from_update_date=from_update_date,
            to_update_date=to_update_date,
        )
        self.lock.runs.add(run.id)
        return run

    def scan(
        self,
        run: Run,
        kind: ContentType,
        root: Window | None = None,
        *,
        known: dict[str, WindowResult] | None = None,
        progress: Progress | None = None,
        collect_ids: bool = False,
        partitions: Iterable[Partition] | None = None,
        guard: DeletionBudget | None = None,
    ) -> PassResult:
        """Scan `root` completely (see `api.scan`) and write every page for `run`: in each
        of `partitions` (default: the type's own, e.g. matches' live=true|false)."""
        progress = progress or Progress()
        # The type's update filter unit rides on the window, so every request scales it.
        root = replace(root or Window(), update_unit=kind.update_unit)
        client, told = self.client, False

        def fetch(params: dict[str, Any]) -> SearchPage:
            nonlocal told
            page = client.search(kind.path, params)
            if not told:
                progress.on_total(page.total_results)
                told = True
            return page

        scanner = Scanner(
            fetch,
            page_size=self.settings.page_size,
            known=known,
            order_by=kind.order_field,
            mark=functools.partial(
                ItemMark.of, update_field=kind.update_field, update_unit=kind.update_unit
            ),
            partitions=kind.partitions if partitions is None else partitions,
        )
        seen: set[str] = set()

        def on_page(page: ScanPage, counts: PageCounts) -> None:
            if collect_ids:
                ids = (item.get(kind.id_field) for item in page.items)
                seen.update(str(key) for key in ids if key is not None)
            progress.on_page(page, counts, client.stats.requests)

        writer = PageWriter(self.conn, kind, run.id, guard, self.lock, self._book(run))
        totals = run_pass(scanner, writer, kind, on_page, root=root)
        return PassResult(totals, scanner, seen)

    def budget(self, kind: ContentType, force: bool) -> DeletionBudget:
        """A run's deletion guard: a share of the type's live rows now (`model.guard`)."""
        return DeletionBudget(
            live_rows(self.conn, kind), self.settings.delete_guard_fraction, force=force
        )

    def finish(
        self,
        run: Run,
        status: str,
        incomplete: list[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        stats = self.client.stats
        finish_run(
            self.lock_conn,
            run,
            status,
            requests=self._book(run).take(),
            errors=stats.errors[self._errors_at_start(run) :],
            incomplete_windows=incomplete,
            details=details,
        )

    def fail(self, run: Run, exc: BaseException) -> None:
        """Mark `run` failed with the reason; on a fresh connection if the lock's is gone
        (the database restarted, or closed it)."""
        stats = self.client.stats
        mark = functools.partial(
            finish_run,
            run=run,
            status="failed",
            requests=self._book(run).take(),
            errors=[*stats.errors[self._errors_at_start(run) :], _why(exc)],
        )
        try:
            mark(self.lock_conn)
            return
        except JobLockLostError:
            log.error("run not marked failed: another job took it over", run=run.id)
            return
        except HotstarSyncError:
            pass
        try:
            with connect(self.lock.url, autocommit=True) as fresh:
                mark(fresh)
        except HotstarSyncError as again:
            log.error("could not mark the run failed", run=run.id, error=again.message)

    @contextmanager
    def running(self, run: Run) -> Iterator[Run]:
        """Mark `run` failed (with the reason) if the block raises, whatever it raises: a
        run left 'running' would only be marked abandoned, without a reason, by the next."""
        self._errors[run.id] = len(self.client.stats.errors)
        self._books[run.id] = RequestBook(lambda: self.client.stats.requests)
        try:
            yield run
        except BaseException as exc:
            self.fail(run, exc)
            raise

    def _book(self, run: Run) -> RequestBook:
        """The run's requests not yet in its sync-log row (from now, if it has no book)."""
        return self._books.setdefault(run.id, RequestBook(lambda: self.client.stats.requests))

    def _errors_at_start(self, run: Run) -> int:
        return self._errors.get(run.id, 0)


def each_type(
    s: Session,
    kinds: Iterable[ContentType],
    run_one: Callable[[ContentType], R],
    on_report: Callable[[R], object] | None = None,
) -> list[R]:
    """`run_one` for each type in turn. A type that fails (its run marked failed) does not
    stop the types after it: an endpoint in trouble must not freeze the whole mirror. The
    first failure is raised once every type has had its turn; a database error stops at
    once, since no type can go on without the database."""
    reports: list[R] = []
    failures: list[FatalError] = []
    for kind in kinds:
        try:
            report = run_one(kind)
        except DatabaseError:
            raise
        except FatalError as exc:
            log.error("type failed; the next types still run", type=kind.name, error=exc.message)
            failures.append(exc)
            s.reset()
            continue
        reports.append(report)
        if on_report is not None:
            on_report(report)
    if failures:
        raise failures[0]
    return reports


def _why(exc: BaseException) -> str:
    """A failed run's reason, as the sync log keeps it."""
    if isinstance(exc, HotstarSyncError):
        return exc.message
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = " ".join(str(exc).split())[:300]
    return f"unexpected error: {type(exc).__name__}" + (f": {text}" if text else "")


@contextmanager
def session(settings: Settings, url: str | None = None) -> Iterator[Session]:
    """Take the job lock, open connections and a client; the schema must be current."""
    url = url or database_url(settings)
    key = settings.resolved_secret()
    schema.require_head(url)
    with job_lock(url) as lock, connect(url) as conn, ExitStack() as stack:
        aux = [stack.enter_context(connect(url, autocommit=True))]

        def on_token(token: Token) -> None:
            # This connection idles between tokens (minutes): a server may have closed it.
            try:
                record_token(aux[0], token)
            except DatabaseError:
                if not aux[0].closed and aux[0].info.status == psycopg.pq.ConnStatus.OK:
                    raise
                log.info("token connection lost: reconnecting")
                aux[0] = stack.enter_context(connect(url, autocommit=True))
                record_token(aux[0], token)

        tokens = TokenProvider(key, settings.token_window_seconds, on_token)
        with PartnerClient(settings, tokens) as client:
            yield Session(settings, lock, conn, client)


def now() -> int:
    return int(time.time())

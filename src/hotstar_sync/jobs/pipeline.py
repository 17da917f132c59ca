"""Fetching and writing overlap: the scanner runs in a thread, pages are written as they come.

At 1 request/s the wait for the next answer is the floor of a pass; writing a page while
the next one is on its way keeps the pass at that floor. Unpaced, PostgreSQL's merge is the
real cost: the fetch thread also validates and hashes each page (`prepare`), and two writer
connections merge two pages at once, so the server's work runs on two cores while this
process fetches and parses. The queue is small, so memory is bounded by a few pages, not
by the catalogue.

Two pages in flight keep every promise one page at a time keeps:

- a page that carries a window's checkpoint starts only once every earlier page has
  committed (the in-flight pages are drained first), so a committed checkpoint never gets
  ahead of a page of its window, and a failed page stops the pass before it;
- two pages that share a contentId, a UNIQUE value or a quarantine key never run at once,
  so each page classifies against a mirror no other open transaction is changing: counts,
  change log and quarantine are what they would be page after page. The items consecutive
  pages share on purpose (`api.scan.OVERLAP`), when both pages hold the very same row, are
  left to the earlier page: the later one counts them "unchanged", as one page after the
  other would (one difference: an item the earlier page quarantined for a clash is not
  quarantined twice). So no two open transactions write a common row, and the writer's
  plain INSERT of new rows never meets a key the other one is inserting. The only row both
  transactions update is the run's sync-log counter, last, before commit;
- counts are summed per page, in the order the pages came.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import psycopg
import structlog

from hotstar_sync.api.scan import Scanner, ScanPage
from hotstar_sync.db.connect import connect
from hotstar_sync.db.runs import checkpoint_filters
from hotstar_sync.db.writer import Checkpoint, PageCounts, PageWriter
from hotstar_sync.errors import DatabaseError
from hotstar_sync.model.content import ContentType
from hotstar_sync.model.validate import Reject, Row, prepare, row_columns
from hotstar_sync.model.windows import Window, WindowResult

log = structlog.get_logger(__name__)

#: Pages fetched and prepared ahead of the writers.
QUEUE_PAGES = 2
#: Page transactions open at once, each on a connection of its own.
WRITERS = 2
#: Times a page rolled back by a deadlock is written again.
DEADLOCK_RETRIES = 2
#: Pages between two full collections of the cyclic garbage collector while a pass runs.
GC_EVERY_PAGES = 100


@dataclass
class PassTotals:
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    items: int = 0


class _Done:
    pass


@dataclass(frozen=True, slots=True)
class _Prepared:
    page: ScanPage
    rows: list[Row]
    rejects: list[Reject]
    #: The keys and UNIQUE values the page's transaction will touch, with their row (None:
    #: a reject's key).
    claims: dict[tuple[int, Any], Row | None]
    #: Keys of rows an earlier page of the pass holds exactly as this one (PageWriter).
    settled: frozenset[str] = frozenset()

    def shares(self, other: _Prepared) -> frozenset[str]:
        """The keys whose row `other` holds exactly as this page does."""
        theirs = other.claims
        return frozenset(
            claim[1]
            for claim, row in self.claims.items()
            if claim[0] == -1 and row is not None and theirs.get(claim) == row
        )

    def clashes(self, other: _Prepared) -> bool:
        """Whether the two pages touch a common row other than with the same values."""
        mine, theirs = self.claims, other.claims
        return any(
            mine[claim] is None or mine[claim] != theirs[claim] for claim in mine.keys() & theirs
        )


def _claimer(
    content_type: ContentType,
) -> Callable[[list[Row], list[Reject]], dict[tuple[int, Any], Row | None]]:
    names = row_columns(content_type)
    key = names.index(content_type.id_column)
    uniques = [names.index(content_type.by_field[f].column) for f in content_type.unique_fields]

    def claims(rows: list[Row], rejects: list[Reject]) -> dict[tuple[int, Any], Row | None]:
        # Keys and quarantine item keys share a namespace: the merge resolves quarantine
        # rows by the row's key.
        found: dict[tuple[int, Any], Row | None] = {(-1, row[key]): row for row in rows}
        found.update(((-1, reject.item_key), None) for reject in rejects)
        for index in uniques:
            found.update(((index, row[index]), row) for row in rows)
        return found

    return claims


def _produce(
    pages: Iterator[ScanPage],
    content_type: ContentType,
    out: queue.Queue[Any],
    stop: threading.Event,
) -> None:
    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(value, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    claims = _claimer(content_type)
    try:
        key = content_type.id_field
        at = row_columns(content_type).index(content_type.id_column)
        for page in pages:
            rows, rejects = prepare(content_type, page.items, time.time())
            # Once prepared, a page's parsed items (~10 MB of dicts) are not needed: only
            # their keys travel on (for counting and for the keys a pass has seen: a
            # quarantined item's is its quarantine key, a hash for one without contentId),
            # so the pages waiting for a writer hold their rows and little else.
            keys = [row[at] for row in rows] + [reject.item_key for reject in rejects]
            page = replace(page, items=[{key: value} for value in keys])
            if not put(_Prepared(page, rows, rejects, claims(rows, rejects))):
                return
        put(_Done())
    except BaseException as exc:  # handed to the writer's thread, which raises it
        put(exc)


def to_checkpoint(result: WindowResult | None) -> Checkpoint | None:
    if result is None:
        return None
    return Checkpoint(
        window_key=result.window.key,
        filters=checkpoint_filters(result),
        status=result.status,  # type: ignore[arg-type]
        total_results=result.total,
        items_seen=result.owned + len(result.edge),
        requests=result.requests,
    )


class _Writers:
    """`WRITERS` page writers of one run, each on its own connection, taken in turn."""

    def __init__(self, first: PageWriter, stack: ExitStack, count: int) -> None:
        self._free: queue.Queue[PageWriter] = queue.Queue()
        self._free.put(first)
        info = first.conn.info
        for _ in range(count - 1):
            conn = stack.enter_context(connect(info.dsn, password=info.password or None))
            self._free.put(
                type(first)(conn, first.content_type, first.run_id, first.guard, first.lock)
            )

    def write(self, prepared: _Prepared) -> PageCounts:
        writer = self._free.get()
        try:
            for attempt in range(DEADLOCK_RETRIES + 1):
                try:
                    return writer.write_page(
                        prepared.rows,
                        prepared.rejects,
                        checkpoint=to_checkpoint(prepared.page.done),
                        settled=prepared.settled,
                    )
                except DatabaseError as exc:
                    # The server broke a lock cycle by rolling this page back whole: the
                    # page is written again (none is expected; see the module docstring).
                    if attempt == DEADLOCK_RETRIES or not isinstance(
                        exc.__cause__, psycopg.errors.DeadlockDetected
                    ):
                        raise
            raise AssertionError("unreachable")
        finally:
            self._free.put(writer)


def run_pass(
    scanner: Scanner,
    writer: PageWriter,
    content_type: ContentType,
    on_page: Callable[[ScanPage, PageCounts], None] | None = None,
    *,
    root: Window | None = None,
    writers: int = WRITERS,
) -> PassTotals:
    """Scan completely and write every page; returns what the writes did.

    `writer` writes the pages, with `writers - 1` more like it on connections opened here
    (see the module docstring for the order they keep).
    """
    pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PAGES)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce,
        args=(scanner.scan(root), content_type, pages, stop),
        name="fetch",
        daemon=True,
    )
    totals = PassTotals()
    inflight: deque[tuple[_Prepared, Future[PageCounts]]] = deque()
    last: _Prepared | None = None  # the page submitted last

    def finish_oldest() -> None:
        prepared, future = inflight.popleft()
        counts = future.result()  # a failed page raises here, before anything after it
        totals.counts = totals.counts + counts
        totals.pages += 1
        totals.items += len(prepared.page.items)
        log.debug(
            "page written",
            window=prepared.page.window.key,
            items=len(prepared.page.items),
            **{k: v for k, v in asdict(counts).items() if v},
        )
        if on_page is not None:
            on_page(prepared.page, counts)
        # A page parses into ~100,000 dicts and lists, all acyclic (reference counting
        # frees them); the collector's automatic runs walked every page held in memory
        # over and over, ~45% of a page's parse time, and a young collection after each
        # page still cost half as much as the parse itself (13 us an item against 25). The
        # only cycles a page leaves are httpx's request objects (~60 small objects, no
        # body: see PartnerClient._send), so a full collection now and then is enough to
        # keep memory flat: every 100 pages, as one takes ~0.1 s with the GIL held (with
        # the pages in flight) and 100 pages leave ~6,000 small objects, about 1 MB.
        if totals.pages % GC_EVERY_PAGES == 0:
            gc.collect()

    with ExitStack() as stack:
        if gc.isenabled():  # back on when the stack closes, whatever fails (a writer's connect)
            gc.disable()
            stack.callback(gc.enable)
        pool = _Writers(writer, stack, writers)
        executor = stack.enter_context(
            ThreadPoolExecutor(max_workers=writers, thread_name_prefix="write")
        )
        thread.start()
        try:
            while True:
                got = pages.get()
                if isinstance(got, _Done):
                    break
                if isinstance(got, BaseException):
                    raise got
                prepared: _Prepared = got
                # A checkpoint waits for every page before it; a page waits for any page
                # in flight it shares a key with; nothing waits for more than `writers`.
                while inflight and (
                    prepared.page.done is not None
                    or len(inflight) >= writers
                    or any(prepared.clashes(other) for other, _ in inflight)
                ):
                    finish_oldest()
                # The rows this page shares, equal, with the page before (the scanner's
                # overlap) are that page's to write, whether it is still in flight or not:
                # the same counts in every run, and no row written by two open transactions.
                earlier = [other for other, _ in inflight]
                if last is not None and all(other is not last for other in earlier):
                    earlier.append(last)
                settled = frozenset[str]().union(*(prepared.shares(other) for other in earlier))
                prepared = last = replace(prepared, settled=settled)
                inflight.append((prepared, executor.submit(pool.write, prepared)))
            while inflight:
                finish_oldest()
        finally:
            stop.set()
            for _, future in inflight:
                future.cancel()
            thread.join(timeout=5)
    return totals

"""Fetching and writing overlap: the scanner runs in a thread, pages are written as they come.

At 1 request/s the wait for the next answer is the floor of a pass; writing a page while
the next one is on its way keeps the pass at that floor. Unpaced, PostgreSQL's merge is the
real cost, and it runs in the server's process while this one fetches and parses. The
queue is small, so memory is bounded by a few pages, not by the catalogue.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hotstar_sync.api.scan import Scanner, ScanPage
from hotstar_sync.db.runs import checkpoint_filters
from hotstar_sync.db.writer import Checkpoint, PageCounts, PageWriter
from hotstar_sync.model.content import ContentType
from hotstar_sync.model.validate import prepare
from hotstar_sync.model.windows import Window, WindowResult

#: Pages fetched ahead of the writer.
QUEUE_PAGES = 4


@dataclass
class PassTotals:
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    items: int = 0


class _Done:
    pass


def _produce(pages: Iterator[ScanPage], out: queue.Queue[Any], stop: threading.Event) -> None:
    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(value, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        for page in pages:
            if not put(page):
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


def run_pass(
    scanner: Scanner,
    writer: PageWriter,
    content_type: ContentType,
    on_page: Callable[[ScanPage, PageCounts], None] | None = None,
    *,
    root: Window | None = None,
) -> PassTotals:
    """Scan completely and write every page; returns what the writes did."""
    pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PAGES)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(scanner.scan(root), pages, stop), name="fetch", daemon=True
    )
    thread.start()
    totals = PassTotals()
    try:
        while True:
            got = pages.get()
            if isinstance(got, _Done):
                break
            if isinstance(got, BaseException):
                raise got
            page: ScanPage = got
            rows, rejects = prepare(content_type, page.items, time.time())
            counts = writer.write_page(rows, rejects, checkpoint=to_checkpoint(page.done))
            totals.counts = totals.counts + counts
            totals.pages += 1
            totals.items += len(page.items)
            if on_page is not None:
                on_page(page, counts)
    finally:
        stop.set()
        thread.join(timeout=5)
    return totals

"""Progress of long commands: a Rich bar on a terminal, structured log lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hotstar_sync.cli._app import err_console
from hotstar_sync.jobs.session import Progress as JobProgress

log = structlog.get_logger(__name__)

#: A plain log line every this many pages when no terminal shows a bar.
LOG_EVERY_PAGES = 10


@contextmanager
def progress_display(label: str) -> Iterator[JobProgress]:
    """A Rich bar (items, requests, ETA) on a terminal; periodic log lines otherwise."""
    if not sys.stderr.isatty():
        pages = 0

        def on_page(page: object, counts: object, requests: int) -> None:
            nonlocal pages
            pages += 1
            if pages % LOG_EVERY_PAGES == 0:
                log.info("progress", pages=pages, requests=requests)

        yield JobProgress(on_page=on_page)
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("items · {task.fields[requests]} requests"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    task = bar.add_task(label, total=None, requests=0)
    with bar:
        yield JobProgress(
            on_total=lambda total: bar.update(task, total=total),
            on_page=lambda page, counts, requests: bar.update(
                task, advance=len(page.items), requests=requests
            ),
        )

"""`ingest`: the first complete load of a content type, resumable from its checkpoints.

A run is a 'initial' row of hotstar_sync_log. Its upper bound (to_update_date) is the time
the ingest *started*, so the first incremental sync also picks up what changed while the
load ran. A run that was killed or failed is continued by the next `ingest`: finished
windows are skipped and split plans reused. A run that finished is followed by a fresh pass,
which rewrites nothing unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from hotstar_sync.api.client import PartnerClient, SearchPage
from hotstar_sync.api.scan import Scanner, ScanPage
from hotstar_sync.api.token import Token, TokenProvider
from hotstar_sync.config import Settings
from hotstar_sync.db.connect import connect, database_url
from hotstar_sync.db.runs import (
    Conn,
    Run,
    finish_run,
    job_lock,
    load_checkpoints,
    resumable_run,
    start_run,
)
from hotstar_sync.db.tokens import record_token
from hotstar_sync.db.writer import PageCounts, PageWriter
from hotstar_sync.errors import HotstarSyncError
from hotstar_sync.jobs.pipeline import run_pass
from hotstar_sync.model.content import MOVIE, ContentType

log = structlog.get_logger(__name__)


@dataclass
class Progress:
    """Hooks for a progress display; the CLI draws a bar, the default only logs."""

    on_total: Callable[[int], None] = lambda total: None
    on_page: Callable[[ScanPage, PageCounts, int], None] = lambda page, counts, requests: None


@dataclass
class IngestReport:
    run_id: int
    status: str  # 'completed' | 'incomplete'
    resumed: bool
    counts: PageCounts
    items_fetched: int
    requests: int
    seconds: float
    unverified: list[str] = field(default_factory=list)


def ingest(
    settings: Settings,
    *,
    content_type: ContentType = MOVIE,
    progress: Progress | None = None,
    url: str | None = None,
) -> IngestReport:
    """Load every item of `content_type` into the mirror; see the module docstring."""
    progress = progress or Progress()
    url = url or database_url(settings)
    key = settings.resolved_secret()
    started = time.monotonic()
    with job_lock(url) as lock_conn, connect(url) as conn, connect(url, autocommit=True) as aux:
        run = resumable_run(lock_conn, "initial", content_type.name) or start_run(
            lock_conn, "initial", content_type.name, to_update_date=int(time.time())
        )
        log.info("ingest started", run=run.id, resumed=run.resumed, type=content_type.name)
        known = load_checkpoints(lock_conn, run.id) if run.resumed else {}

        def on_token(token: Token) -> None:
            record_token(aux, token)

        tokens = TokenProvider(key, settings.token_window_seconds, on_token)
        with PartnerClient(settings, tokens) as client:
            first_page = True

            def fetch(params: dict[str, Any]) -> SearchPage:
                nonlocal first_page
                page = client.search(content_type.path, params)
                if first_page:
                    progress.on_total(page.total_results)
                    first_page = False
                return page

            scanner = Scanner(fetch, page_size=settings.page_size, known=known)
            writer = PageWriter(conn, content_type, run.id)
            try:
                totals = run_pass(
                    scanner,
                    writer,
                    content_type,
                    lambda page, counts: progress.on_page(page, counts, client.stats.requests),
                )
            except (HotstarSyncError, KeyboardInterrupt) as exc:
                _fail(lock_conn, run, client, exc)
                raise
            unverified = [r.window.key for r in scanner.unverified]
            status = "completed" if scanner.result.verified else "incomplete"
            finish_run(
                lock_conn,
                run,
                status,
                requests=client.stats.requests,
                errors=client.stats.errors,
                incomplete_windows=unverified,
            )
    report = IngestReport(
        run.id,
        status,
        run.resumed,
        totals.counts,
        totals.items,
        client.stats.requests,
        time.monotonic() - started,
        unverified,
    )
    log.info(
        "ingest finished",
        run=run.id,
        status=status,
        added=report.counts.added,
        updated=report.counts.updated,
        quarantined=report.counts.quarantined,
        requests=report.requests,
        seconds=round(report.seconds, 1),
    )
    return report


def _fail(conn: Conn, run: Run, client: PartnerClient, exc: BaseException) -> None:
    reason = exc.message if isinstance(exc, HotstarSyncError) else "interrupted"
    try:
        finish_run(
            conn,
            run,
            "failed",
            requests=client.stats.requests,
            errors=[*client.stats.errors, reason],
        )
    except HotstarSyncError:
        log.error("could not mark the run failed", run=run.id)

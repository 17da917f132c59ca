"""`ingest`: the first complete load of a content type, resumable from its checkpoints.

A run is an 'initial' row of hotstar_sync_log. Its upper bound (to_update_date) is the time
the ingest *started*, so the first incremental sync also picks up what changed while the
load ran. A run that was killed or failed is continued by the next `ingest`: finished
windows are skipped and split plans reused. A run that finished is followed by a fresh pass,
which rewrites nothing unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog

from hotstar_sync.config import Settings
from hotstar_sync.db.runs import load_checkpoints
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.jobs.session import Progress, now, session
from hotstar_sync.model.content import MOVIE, ContentType

log = structlog.get_logger(__name__)

__all__ = ["IngestReport", "Progress", "ingest"]


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
    started = time.monotonic()
    with session(settings, url) as s:
        run = s.start("initial", content_type, resume=True, to_update_date=now())
        log.info("ingest started", run=run.id, resumed=run.resumed, type=content_type.name)
        with s.running(run):
            known = load_checkpoints(s.lock_conn, run.id) if run.resumed else {}
            result = s.scan(run, content_type, known=known, progress=progress)
            status = "completed" if result.verified else "incomplete"
            s.finish(run, status, result.unverified)
        requests = s.client.stats.requests
    report = IngestReport(
        run.id,
        status,
        run.resumed,
        result.totals.counts,
        result.totals.items,
        requests,
        time.monotonic() - started,
        result.unverified,
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

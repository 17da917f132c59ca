"""`ingest`: the first complete load of a content type, resumable from its checkpoints.

A run is an 'initial' row of hotstar_sync_log. Its upper bound (to_update_date) is the time
the ingest *started*, so the first incremental sync also picks up what changed while the
load ran. A run that was killed or failed is continued by the next `ingest`: finished
windows are skipped and split plans reused. A run that finished is followed by a fresh pass,
which rewrites nothing unchanged.

`ingest_types` loads several types in one session: one client, so one pacer for every
request (the partner's limit is per partner, not per endpoint), and one run per type.
A type searched per parent (seasons) asks every parent the mirror holds (`jobs.children`),
so its parent type is loaded first (`CONTENT_TYPES` lists parents first).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from hotstar_sync.config import Settings
from hotstar_sync.db.runs import load_checkpoints
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.jobs import children
from hotstar_sync.jobs.session import Progress, Session, now, session
from hotstar_sync.model.content import MOVIE, ContentType

log = structlog.get_logger(__name__)

__all__ = ["IngestReport", "Progress", "ingest", "ingest_types"]


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
    content_type: str = "movie"


def ingest(
    settings: Settings,
    *,
    content_type: ContentType = MOVIE,
    progress: Progress | None = None,
    url: str | None = None,
) -> IngestReport:
    """Load every item of `content_type` into the mirror; see the module docstring."""
    return ingest_types(settings, [content_type], progress=progress, url=url)[0]


def ingest_types(
    settings: Settings,
    kinds: Sequence[ContentType],
    *,
    progress: Progress | None = None,
    url: str | None = None,
) -> list[IngestReport]:
    """Load each of `kinds`, in order, through one session (one pacer)."""
    with session(settings, url) as s:
        return [ingest_in(s, kind, progress) for kind in kinds]


def ingest_in(s: Session, content_type: ContentType, progress: Progress | None) -> IngestReport:
    started, requests_before = time.monotonic(), s.client.stats.requests
    parts = None
    if content_type.parent is not None:  # before the run: no parents, no run left failed
        parts = children.partitions(content_type, children.all_parents(s.conn, content_type))
    run = s.start("initial", content_type, resume=True, to_update_date=now())
    log.info("ingest started", run=run.id, resumed=run.resumed, type=content_type.name)
    with s.running(run):
        known = load_checkpoints(s.lock_conn, run.id) if run.resumed else {}
        result = s.scan(run, content_type, known=known, progress=progress, partitions=parts)
        status = "completed" if result.verified else "incomplete"
        s.finish(run, status, result.unverified)
    report = IngestReport(
        run.id,
        status,
        run.resumed,
        result.totals.counts,
        result.totals.items,
        s.client.stats.requests - requests_before,
        time.monotonic() - started,
        result.unverified,
        content_type.name,
    )
    log.info(
        "ingest finished",
        run=run.id,
        type=content_type.name,
        status=status,
        added=report.counts.added,
        updated=report.counts.updated,
        quarantined=report.counts.quarantined,
        requests=report.requests,
        seconds=round(report.seconds, 1),
    )
    return report

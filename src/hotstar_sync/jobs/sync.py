"""`sync`: the daily incremental sync, a count probe, and a reconcile when one is due.

It polls updateDate from the last successful run's upper bound minus a lookback (changes
can show up late in the search index) to now, through the same complete scanner as the
ingest (so more than 10,000 changes are split like any window). Expiry and its undoing are
evaluated over the whole mirror, since an endDate passing changes no updateDate. Then a
count probe (`jobs.probe`) finds the day's silent deletions, unless a reconcile is due. The
upper bound moves only when a sync completes; a reconcile never moves it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg
import structlog
from psycopg import sql

from hotstar_sync.config import Settings
from hotstar_sync.db.lifecycle import expire_and_restore
from hotstar_sync.db.runs import Conn
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import ConfigError, DatabaseError
from hotstar_sync.jobs.probe import ProbeReport, probe
from hotstar_sync.jobs.reconcile import ReconcileReport, run_reconcile
from hotstar_sync.jobs.session import Progress, now, session
from hotstar_sync.model.content import MOVIE, ContentType
from hotstar_sync.model.windows import Range, Window

log = structlog.get_logger(__name__)

SECONDS_PER_DAY = 86_400


@dataclass
class SyncReport:
    run_id: int
    status: str  # 'completed' | 'incomplete'
    from_update_date: int
    to_update_date: int
    counts: PageCounts
    expired: int
    unexpired: int
    requests: int
    seconds: float
    unverified: list[str] = field(default_factory=list)
    probe: ProbeReport | None = None
    reconcile: ReconcileReport | None = None


_LAST_UPPER = """
SELECT max(to_update_date) FROM hotstar_sync_log
WHERE status = 'completed' AND sync_type IN ('initial', 'daily') AND content_type = %s
"""

_LAST_PASS = """
SELECT extract(epoch FROM now() - max(completed_at)) FROM hotstar_sync_log
WHERE status = 'completed' AND sync_type IN ('initial', 'reconcile') AND content_type = %s
"""


def _scalar(conn: Conn, query: str, kind: ContentType) -> float | None:
    try:
        row = conn.execute(sql.SQL(query), (kind.name,)).fetchone()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the sync log: {exc.diag.message_primary}") from exc
    return None if row is None or row[0] is None else float(row[0])


def sync(
    settings: Settings,
    *,
    reconcile: bool | None = None,
    force: bool = False,
    content_type: ContentType = MOVIE,
    progress: Progress | None = None,
    url: str | None = None,
) -> SyncReport:
    """Poll the changes since the last run; then reconcile if asked, or (None) if due."""
    started = time.monotonic()
    with session(settings, url) as s:
        upper = _scalar(s.lock_conn, _LAST_UPPER, content_type)
        if upper is None:
            raise ConfigError(
                f"no completed ingest of {content_type.name} items in this database yet",
                hint="run `hotstar-sync ingest` first",
            )
        frm, to = int(upper) - s.settings.lookback_seconds, now()
        age = _scalar(s.lock_conn, _LAST_PASS, content_type)
        due = age is None or age >= s.settings.reconcile_every_days * SECONDS_PER_DAY
        run_reconcile_now = bool(reconcile) or (reconcile is None and due)
        run = s.start("daily", content_type, from_update_date=frm, to_update_date=to)
        log.info("sync started", run=run.id, from_update_date=frm, to_update_date=to)
        probed: ProbeReport | None = None
        with s.running(run):
            window = Window(update=Range(frm, to))
            result = s.scan(run, content_type, window, progress=progress)
            expired, unexpired = expire_and_restore(s.conn, content_type, run.id, time.time())
            status = "completed" if result.verified else "incomplete"
            if status == "completed" and not run_reconcile_now:
                # A reconcile would find every deletion anyway; otherwise count and bisect.
                probed = probe(s, content_type, run, force=force)
                if probed.refused:
                    status = "refused"
            details = {"probe": probed.details()} if probed else None
            s.finish(run, status, result.unverified or None, details)
        report = SyncReport(
            run.id,
            status,
            frm,
            to,
            result.totals.counts + (probed.counts if probed else PageCounts()),
            expired,
            unexpired,
            s.client.stats.requests,
            time.monotonic() - started,
            result.unverified,
            probe=probed,
        )
        if probed is not None and probed.fell_back and reconcile is not False:
            log.info("count probe too costly: reconciling instead", drift=probed.drift)
            run_reconcile_now = True
        if run_reconcile_now:
            report.reconcile = run_reconcile(s, content_type, force=force, progress=progress)
    log.info(
        "sync finished",
        run=report.run_id,
        status=report.status,
        added=report.counts.added,
        updated=report.counts.updated,
        expired=expired,
        requests=report.requests,
    )
    return report

"""`sync`: the daily incremental sync, a count probe, and a reconcile when one is due.

It polls updateDate from the last successful run's upper bound minus a lookback (changes
can show up late in the search index) to now, through the same complete scanner as the
ingest (so more than 10,000 changes are split like any window). Expiry and its undoing are
evaluated over the whole mirror, since an endDate passing changes no updateDate. Then a
count probe (`jobs.probe`) finds the day's silent deletions, unless a reconcile is due. The
upper bound moves only when a sync completes; a reconcile never moves it.

`sync_types` syncs several types in one session (one pacer for every request). A type
searched per parent (seasons) has no updateDate poll: its sync asks the parents that changed
since its last run for all their children (`jobs.children`), and finds their deletions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
import structlog
from psycopg import sql

from hotstar_sync.config import Settings
from hotstar_sync.db.lifecycle import expire_and_restore
from hotstar_sync.db.runs import Conn
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import ConfigError, DatabaseError, DeletionGuardError
from hotstar_sync.jobs import children
from hotstar_sync.jobs.probe import ProbeReport, probe
from hotstar_sync.jobs.reconcile import ReconcileReport, run_reconcile
from hotstar_sync.jobs.session import Progress, Session, each_type, now, session
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
    content_type: str = "movie"
    parents: int | None = None  # parents asked, for a type searched per parent
    #: Children the parents' walks no longer return: soft-deleted (live ones counted), or,
    #: when the guard refused, held back.
    vanished: int = 0
    would_vanish: int = 0
    live_rows: int = 0
    #: Why the deletion guard stopped the sync itself (items served UNPUBLISHED or expired
    #: past it), when it did.
    held_back: str | None = None


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
    reports = sync_types(
        settings, [content_type], reconcile=reconcile, force=force, progress=progress, url=url
    )
    return reports[0]


def sync_types(
    settings: Settings,
    kinds: Sequence[ContentType],
    *,
    reconcile: bool | None = None,
    force: bool = False,
    progress: Progress | None = None,
    url: str | None = None,
    only_ingested: bool = False,
    on_report: Callable[[SyncReport], object] | None = None,
) -> list[SyncReport]:
    """Sync each of `kinds`, in order (parents before children), through one session;
    `on_report` gets each type's report as soon as it is done. A type that fails does not
    stop the others; the first failure is raised at the end (`session.each_type`).

    With `only_ingested` (`--type all`, the scheduler), a type that was never loaded is
    skipped with a log line rather than an error: a deployment may mirror movies alone."""
    with session(settings, url) as s:
        if only_ingested:
            loaded = [k for k in kinds if _scalar(s.lock_conn, _LAST_UPPER, k) is not None]
            if not loaded:
                raise ConfigError(
                    "no completed ingest in this database yet",
                    hint="run `hotstar-sync ingest` first",
                )
            for kind in kinds:
                if kind not in loaded:
                    log.info("sync skipped: no completed ingest", type=kind.name)
            kinds = loaded
        return each_type(
            s, kinds, lambda kind: sync_in(s, kind, reconcile, force, progress), on_report
        )


def sync_in(
    s: Session,
    content_type: ContentType,
    reconcile: bool | None,
    force: bool,
    progress: Progress | None,
) -> SyncReport:
    started, requests_before = time.monotonic(), s.client.stats.requests
    upper = _scalar(s.lock_conn, _LAST_UPPER, content_type)
    if upper is None:
        raise ConfigError(
            f"no completed ingest of {content_type.name} items in this database yet",
            hint=f"run `hotstar-sync ingest --type {content_type.name}` first",
        )
    frm, to = int(upper) - s.settings.lookback_seconds, now()
    age = _scalar(s.lock_conn, _LAST_PASS, content_type)
    due = age is None or age >= s.settings.reconcile_every_days * SECONDS_PER_DAY
    run_reconcile_now = bool(reconcile) or (reconcile is None and due)
    run = s.start("daily", content_type, from_update_date=frm, to_update_date=to)
    log.info("sync started", run=run.id, type=content_type.name, from_update_date=frm, to=to)
    probed: ProbeReport | None = None
    kids: children.ChildrenReport | None = None
    held: DeletionGuardError | None = None
    guard = s.budget(content_type, force)
    counts, unverified, verified, refused = PageCounts(), [], False, False
    synced: tuple[Window, int] | None = None  # the update window and the total it had
    expired = unexpired = 0
    with s.running(run):
        try:
            if content_type.parent is not None:
                changed = children.changed_parents(
                    s.conn, content_type, s.settings.lookback_seconds
                )
                kids = children.refresh(
                    s,
                    run,
                    content_type,
                    changed,
                    everything=False,
                    guard=guard,
                    progress=progress,
                )
                counts, unverified = kids.counts, kids.unverified
                verified, refused = kids.verified, kids.refused
            else:
                window = Window(update=Range(frm, to))
                result = s.scan(run, content_type, window, progress=progress, guard=guard)
                counts, unverified = result.totals.counts, result.unverified
                verified = result.verified
                synced = (window, result.scanner.result.total)
            s.lock.ensure()
            expired, unexpired = expire_and_restore(
                s.conn, content_type, run.id, time.time(), guard
            )
        except DeletionGuardError as exc:  # items served UNPUBLISHED or expired, en masse
            log.warning("deletion guard refused", type=content_type.name, reason=str(exc))
            held, verified, refused = exc, True, True
        status = "completed" if verified else "incomplete"
        if status == "completed" and not refused and not run_reconcile_now and content_type.probe:
            # A reconcile would find every deletion anyway; otherwise count and bisect.
            probed = probe(s, content_type, run, guard=guard, synced=synced)
            refused = probed.refused
        if status == "completed" and refused:  # a person must look
            status = "refused"
        details: dict[str, object] = {"probe": probed.details()} if probed else {}
        if held is not None:
            details |= {
                "would_delete": held.context["would_delete"],
                "live_rows": held.context["live_rows"],
                "held_back": str(held),
            }
        if kids is not None:
            details |= {
                "parents_asked": kids.parents,
                "vanished": kids.vanished,
                "would_vanish": kids.would_vanish,
                "live_rows": kids.live_rows,
            }
        s.finish(run, status, unverified or None, details or None)
    report = SyncReport(
        run.id,
        status,
        frm,
        to,
        counts + (probed.counts if probed else PageCounts()),
        expired,
        unexpired,
        s.client.stats.requests - requests_before,
        time.monotonic() - started,
        unverified,
        probe=probed,
        content_type=content_type.name,
        parents=kids.parents if kids else None,
        vanished=kids.vanished if kids else 0,
        would_vanish=kids.would_vanish if kids else 0,
        live_rows=kids.live_rows if kids else 0,
        held_back=None if held is None else str(held),
    )
    if held is not None:
        run_reconcile_now = False  # a person looks first
    elif probed is not None and probed.fell_back and reconcile is not False:
        log.info("count probe too costly: reconciling instead", drift=probed.drift)
        run_reconcile_now = True
    if run_reconcile_now:
        report.reconcile = run_reconcile(
            s,
            content_type,
            force=force,
            progress=progress,
            api_total=probed.api_total if probed is not None else None,
        )
    log.info(
        "sync finished",
        run=report.run_id,
        type=content_type.name,
        status=report.status,
        added=report.counts.added,
        updated=report.counts.updated,
        expired=expired,
        requests=report.requests,
    )
    return report

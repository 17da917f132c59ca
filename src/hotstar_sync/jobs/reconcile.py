"""`reconcile`: a complete pass that also finds deletions the API never reports.

The pass is planned from the mirror's own startDate distribution (windows of ~8,900 items:
nine requests each, almost none wasted) and refreshes every item. A row the pass did not see
is a *candidate*: it is looked for once more (in its own second, or in its planned window
when there are many), and only a row missing from both looks is soft-deleted as 'vanished'
(design, "Complete enumeration": one sighting proves nothing under churn). Nothing is deleted
when the pass was incomplete, nor — unless forced — when more than
HOTSTAR_DELETE_GUARD_FRACTION of the live rows would go ('refused').

A type split into partitions (matches: live=true|false) is scanned partition by partition,
each split from its own probe pages (the mirror's plan covers both). A type searched per
parent (seasons) asks every parent (`jobs.children`).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from hotstar_sync.config import Settings
from hotstar_sync.db.lifecycle import expire_and_restore, present_rows, vanish
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import DeletionGuardError
from hotstar_sync.jobs import children
from hotstar_sync.jobs.session import Progress, Session, each_type, session
from hotstar_sync.model.content import MOVIE, ContentType
from hotstar_sync.model.probe import MirrorIndex
from hotstar_sync.model.windows import Range, Window, WindowResult, plan_from_counts

log = structlog.get_logger(__name__)

#: Items a planned window aims at: 1 + 8 overlapping pages of 1,000 hold 8,984 items, and
#: the API may hold a few more than the mirror knows of.
PLAN_TARGET = 8_900


@dataclass
class ReconcileReport:
    run_id: int
    status: str  # 'completed' | 'incomplete' | 'refused'
    counts: PageCounts
    vanished: int  # live rows soft-deleted as 'vanished'
    would_vanish: int  # live rows the pass did not find (deleted unless refused/incomplete)
    live_rows: int
    expired: int
    requests: int
    seconds: float
    unverified: list[str] = field(default_factory=list)
    content_type: str = "movie"
    #: Why the deletion guard stopped the pass itself (items served UNPUBLISHED or expired
    #: past it), when it did.
    held_back: str | None = None


def plan(rows: dict[str, tuple[int | None, bool]]) -> list[Window]:
    counts = Counter(sd for sd, _ in rows.values() if isinstance(sd, int))
    return [Window(start=r) for r in plan_from_counts(sorted(counts.items()), PLAN_TARGET)]


def reconcile(
    settings: Settings,
    *,
    force: bool = False,
    content_type: ContentType = MOVIE,
    progress: Progress | None = None,
    url: str | None = None,
) -> ReconcileReport:
    return reconcile_types(settings, [content_type], force=force, progress=progress, url=url)[0]


def reconcile_types(
    settings: Settings,
    kinds: Sequence[ContentType],
    *,
    force: bool = False,
    progress: Progress | None = None,
    url: str | None = None,
    on_report: Callable[[ReconcileReport], object] | None = None,
) -> list[ReconcileReport]:
    """Reconcile each of `kinds`, in order, through one session (one pacer); `on_report`
    gets each type's report as soon as it is done; a type that fails does not stop the
    others (`session.each_type`)."""
    with session(settings, url) as s:
        return each_type(
            s, kinds, lambda kind: run_reconcile(s, kind, force=force, progress=progress), on_report
        )


def _second_sighting(
    windows: list[Window], present: dict[str, tuple[int | None, bool]], candidates: set[str]
) -> list[Window]:
    """Where to look once more for rows the pass did not see: each candidate's own second
    (usually one request each), or — when there are many — the planned windows holding
    them (nine requests each), whichever asks less."""
    seconds = sorted({sd for c in candidates if isinstance(sd := present[c][0], int)})
    holding = [w for w in windows if any(sd in w.start for sd in seconds)]
    index = MirrorIndex(sd for sd, _ in present.values() if isinstance(sd, int))
    by_window = sum(max(1, math.ceil(index.count(w.start) / 998)) for w in holding)
    if len(seconds) <= by_window:
        return [Window(start=Range(sd, sd)) for sd in seconds]
    return holding


def run_reconcile(
    s: Session,
    kind: ContentType,
    *,
    force: bool,
    progress: Progress | None = None,
    api_total: int | None = None,
) -> ReconcileReport:
    """One reconcile of `kind` in session `s`. `api_total`: the catalogue's totalResults,
    when a count probe has just read it (the pass then need not read it again)."""
    if kind.parent is not None:
        return _reconcile_children(s, kind, force=force, progress=progress)
    started, requests_before = time.monotonic(), s.client.stats.requests
    present = present_rows(s.conn, kind)
    windows = plan(present)
    root = Window()
    # The root's total, unless a probe just read it, is unknown (-1): once the planned
    # children are walked, one size=1 request reads it, and their counts must add up to it
    # (a total that moved in between is read again: api.scan).
    total = -1 if api_total is None else api_total
    known = {root.key: WindowResult(root, total, children=windows, is_plan=True)}
    if len(windows) == 1 or kind.partitions != ((),):
        # One window holds the catalogue (no plan to follow), or the plan covers all
        # partitions at once: each partition is then split from its own probe pages.
        known = {}
    guard = s.budget(kind, force)
    run = s.start("reconcile", kind)
    log.info("reconcile started", run=run.id, windows=len(windows), rows=len(present))
    counts, unverified, verified = PageCounts(), [], False
    candidates: set[str] = set()
    expired = vanished = 0
    held: DeletionGuardError | None = None
    with s.running(run):
        try:
            result = s.scan(
                run, kind, known=known, progress=progress, collect_ids=True, guard=guard
            )
            unverified, verified = result.unverified, result.verified
            counts = result.totals.counts
            candidates = set(present) - result.seen
            if candidates and result.verified:
                stray = {c for c in candidates if not isinstance(present[c][0], int)}
                for window in _second_sighting(windows, present, candidates - stray):
                    second = s.scan(run, kind, window, collect_ids=True, guard=guard)
                    candidates -= second.seen
                    counts = counts + second.totals.counts
                    unverified += second.unverified
                if stray:  # no startDate in the mirror: only a whole second pass could tell
                    log.warning("rows without a startDate kept", rows=len(stray))
                    candidates -= stray
            s.lock.ensure()
            expired, _ = expire_and_restore(s.conn, kind, run.id, time.time(), guard)
        except DeletionGuardError as exc:  # items served UNPUBLISHED or expired, en masse
            held = exc
        live = sum(is_live for _, is_live in present.values())
        would = sum(present[c][1] for c in candidates)
        details: dict[str, Any] | None = None
        if held is not None:
            status, would, live = "refused", held.context["would_delete"], guard.live_rows
            details = {"would_delete": would, "live_rows": live, "held_back": str(held)}
            log.warning("deletion guard refused", reason=str(held))
        elif unverified or not verified:
            status = "incomplete"
        elif not guard.take(would):
            status = "refused"
            log.warning("deletion guard refused", would_vanish=would, live=live)
        else:
            status = "completed"
            s.lock.ensure()
            vanished = vanish(s.conn, kind, run.id, candidates)
        s.finish(run, status, unverified or None, details)
    return ReconcileReport(
        run.id,
        status,
        counts,
        vanished,
        would,
        live,
        expired,
        s.client.stats.requests - requests_before,
        time.monotonic() - started,
        unverified,
        kind.name,
        held_back=None if held is None else str(held),
    )


def _reconcile_children(
    s: Session, kind: ContentType, *, force: bool, progress: Progress | None
) -> ReconcileReport:
    started, requests_before = time.monotonic(), s.client.stats.requests
    parents = children.all_parents(s.conn, kind)
    run = s.start("reconcile", kind)
    log.info("reconcile started", run=run.id, type=kind.name, parents=len(parents))
    with s.running(run):
        guard = s.budget(kind, force)
        details: dict[str, Any] = {"parents_asked": len(parents)}
        expired = 0
        try:
            report = children.refresh(
                s, run, kind, parents, everything=True, guard=guard, progress=progress
            )
            s.lock.ensure()
            expired, _ = expire_and_restore(s.conn, kind, run.id, time.time(), guard)
        except DeletionGuardError as exc:  # items served UNPUBLISHED or expired, en masse
            report = children.ChildrenReport(len(parents), True, PageCounts(), refused=True)
            report.would_vanish, report.live_rows = exc.context["would_delete"], guard.live_rows
            details |= {"would_delete": report.would_vanish, "held_back": str(exc)}
        status = "completed" if report.verified else "incomplete"
        if status == "completed" and report.refused:
            status = "refused"
        s.finish(run, status, report.unverified or None, details)
    return ReconcileReport(
        run.id,
        status,
        report.counts,
        report.vanished,
        report.would_vanish,
        report.live_rows,
        expired,
        s.client.stats.requests - requests_before,
        time.monotonic() - started,
        report.unverified,
        kind.name,
        held_back=details.get("held_back"),
    )

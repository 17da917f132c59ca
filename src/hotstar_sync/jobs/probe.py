"""Count probes after a sync: deletions found the same day, usually for one request.

If the API's whole-catalogue total equals the mirror's count of present rows, nothing
vanished. Otherwise the windows that differ are bisected (`model.probe`) down to windows
small enough that fetching them is cheaper than probing further; those are walked, items
the mirror lacks are stored, and rows the API lacks — after a second walk, since one
sighting proves nothing under churn — are soft-deleted as 'vanished' under the same guard
as a reconcile. When the planned cost would exceed a full pass, the probe stops and asks for
a reconcile instead. `verify` runs the same probes read-only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
import structlog

from hotstar_sync.api.client import PartnerClient
from hotstar_sync.api.token import TokenProvider
from hotstar_sync.config import Settings
from hotstar_sync.db import schema
from hotstar_sync.db.connect import connect, database_url
from hotstar_sync.db.lifecycle import present_rows, quarantined, resolve_quarantined, vanish
from hotstar_sync.db.runs import Conn, Run
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import DatabaseError
from hotstar_sync.jobs.session import Session
from hotstar_sync.model.content import MOVIE, ContentType
from hotstar_sync.model.guard import DeletionBudget
from hotstar_sync.model.probe import FETCH_ITEMS, MirrorIndex, Probed
from hotstar_sync.model.windows import Range, Window

log = structlog.get_logger(__name__)


@dataclass
class ProbeReport:
    api_total: int = 0
    mirror_total: int = 0
    requests: int = 0
    probed: list[Probed] = field(default_factory=list)
    leaves: list[Probed] = field(default_factory=list)
    missing: int = 0  # items the API had and the mirror lacked, now stored
    counts: PageCounts = field(default_factory=PageCounts)  # what the fetched windows wrote
    vanished: int = 0  # live rows soft-deleted as 'vanished'
    would_vanish: int = 0
    live_rows: int = 0  # the guard's base
    refused: bool = False  # the deletion guard held the deletions back
    fell_back: bool = False  # too costly: a reconcile should run instead
    #: The API's total moved between two counts: the index was still making changes
    #: visible.
    settling: bool = False
    #: The question of deletions was left to the next run: the index was settling, or a
    #: walk did not verify. Nothing was deleted where it was not settled.
    deferred: bool = False
    #: Windows whose walk did not verify: nothing was deleted in them.
    unverified: list[str] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return self.api_total - self.mirror_total

    def details(self) -> dict[str, Any]:
        return {
            "api_total": self.api_total,
            "mirror_total": self.mirror_total,
            "drift": self.drift,
            "requests": self.requests,
            "windows_probed": len(self.probed),
            "windows_fetched": len(self.leaves),
            "missing": self.missing,
            "vanished": self.vanished,
            "would_vanish": self.would_vanish,
            "live_rows": self.live_rows,
            "refused": self.refused,
            "fell_back": self.fell_back,
            "settling": self.settling,
            "deferred": self.deferred,
            "unverified": self.unverified,
        }


def counted_rows(conn: Conn, kind: ContentType) -> dict[str, tuple[int | None, bool]]:
    """What the API should count: present rows (all but 'vanished') and the quarantined
    items, which the API returns too. contentId -> (startDate, live row)."""
    rows = present_rows(conn, kind)
    for key, start in quarantined(conn, kind).items():
        rows.setdefault(key, (start, False))
    return rows


def _total(client: PartnerClient, kind: ContentType, window: Window) -> int:
    """The API's totalResults for `window`: one `size=1` request."""
    params = {"orderBy": "contentId", "order": "asc", "offset": 0, "size": 1}
    return client.search(kind.path, params | window.params()).total_results


def api_counter(client: PartnerClient, kind: ContentType) -> Callable[[Range], int]:
    return lambda rng: _total(client, kind, Window(start=rng))


def window_total(client: PartnerClient, kind: ContentType, window: Window) -> int:
    """The API's total of `window` now, over the type's partitions (one request each)."""
    window = replace(window, update_unit=kind.update_unit)
    return sum(
        _total(client, kind, replace(window, fixed=window.fixed + part)) for part in kind.partitions
    )


def _cost_to_finish(window: Probed) -> int:
    """Requests still needed for one drifting window: the halvings down to a fetchable size,
    then two walks of the leaf (the second sighting before a deletion)."""
    size = max(window.api, window.mirror, 1)
    halvings = max(0, math.ceil(math.log2(size / FETCH_ITEMS))) if size > FETCH_ITEMS else 0
    return halvings + 2


def bisect_drift(
    index: MirrorIndex,
    mirror_total: int,
    count: Callable[[Range], int],
    budget: int,
    unplaced: int = 0,
) -> ProbeReport:
    """Find the smallest windows whose counts differ, spending at most `budget` requests.

    A window's right half is not asked for: its API count is the parent's minus the left
    half's (both cut at a second the mirror holds nothing in). Before every request the
    cost still to come is estimated — each differing item may need its own path down — and
    the probe gives up (`fell_back`) as soon as it would pass `budget`, so a day with many
    deletions wastes a request or two on the probe, not a full pass.

    `unplaced` counts the mirror's items whose startDate is no number ("2019-05-01", null,
    an item that is no object): the API counts them in some window of its choosing, so no
    window below the root can be compared, and a drift at the root falls back at once."""
    report = ProbeReport(mirror_total=mirror_total)
    root = Range()
    report.api_total = count(root)
    report.requests = 1
    first = Probed(root, report.api_total, mirror_total)
    report.probed.append(first)
    if first.drift and (unplaced or abs(first.drift) * _cost_to_finish(first) > budget):
        report.fell_back = True
        return report
    pending = [first] if first.drift else []
    while pending:
        window = pending.pop()
        small = window.mirror <= FETCH_ITEMS and window.api <= FETCH_ITEMS
        halves = None if small else index.split(window.window)
        if halves is None:
            report.leaves.append(window)
            continue
        to_come = _cost_to_finish(window) + sum(map(_cost_to_finish, pending))
        to_come += sum(2 * _fetch_pages(w) for w in report.leaves)
        if report.requests + to_come > budget:
            report.fell_back = True
            return report
        left, right = halves
        api_left = count(left)
        report.requests += 1
        children = [
            Probed(left, api_left, index.count(left)),
            Probed(right, window.api - api_left, index.count(right)),
        ]
        report.probed.extend(children)
        pending.extend(c for c in children if c.drift)
    report.fell_back = report.requests + sum(2 * _fetch_pages(w) for w in report.leaves) > budget
    return report


def _bisect(
    present: dict[str, tuple[int | None, bool]], count: Callable[[Range], int]
) -> ProbeReport:
    """`bisect_drift` over the mirror's counted rows."""
    starts = [sd for sd, _ in present.values()]
    index = MirrorIndex(sd for sd in starts if isinstance(sd, int))
    return bisect_drift(
        index, len(present), count, full_pass_cost(len(present)), len(starts) - len(index)
    )


def _fetch_pages(window: Probed) -> int:
    return max(1, math.ceil(max(window.api, window.mirror) / 998))


def full_pass_cost(rows: int) -> int:
    """Requests of a planned reconcile of `rows` items (nine per ~8,900, plus the check)."""
    return math.ceil(rows / 8_900) * 9 + 1


def probe(
    s: Session,
    kind: ContentType,
    run: Run,
    *,
    guard: DeletionBudget,
    act: bool = True,
    synced: tuple[Window, int] | None = None,
) -> ProbeReport:
    """Probe, and (with `act`) fetch the drifting windows and apply what they show; the
    rows that vanished count against the run's deletion `guard`.

    A probe too costly to finish asks for a reconcile, but first counts the sync's own
    window again (`synced`: the window and the total its scan saw): if it grew since, the
    search index is still making the day's changes visible (a new version shows some
    seconds after its updateDate), and a reconcile now would read totals moving under it.
    The question is then deferred to the next run (`deferred`), as are the deletions of any
    walk that does not verify. The run stays `completed`; `health` warns when deletions go
    unchecked for longer than HOTSTAR_DELETIONS_UNCHECKED_DAYS."""
    requests_before = s.client.stats.requests
    present = counted_rows(s.conn, kind)
    report = _bisect(present, api_counter(s.client, kind))
    if act and report.fell_back and synced is not None:
        window, seen_total = synced
        report.settling = window_total(s.client, kind, window) != seen_total
        if report.settling:
            report.fell_back, report.deferred = False, True
            log.info("count probe deferred: the index is still settling", drift=report.drift)
    if not act or not report.leaves or report.fell_back or report.deferred:
        report.requests = s.client.stats.requests - requests_before
        log.info("count probe", **report.details())
        return report
    candidates: set[str] = set()
    seen: set[str] = set()
    for leaf in report.leaves:
        window = Window(start=leaf.window)
        walks = [s.scan(run, kind, window, collect_ids=True)]
        report.missing += walks[0].totals.counts.added
        inside = {c for c, (sd, _) in present.items() if sd in leaf.window}
        if inside - walks[0].seen:  # a second sighting before any deletion
            walks.append(s.scan(run, kind, window, collect_ids=True))
        for walk in walks:
            report.counts = report.counts + walk.totals.counts
            seen |= walk.seen
        if all(walk.verified for walk in walks):
            candidates |= inside
        else:  # an item a walk missed may still be there: only a complete walk deletes
            report.unverified += [key for walk in walks for key in walk.unverified] or [window.key]
    # Not only this leaf's walks: an item whose startDate the mirror had wrong sits in one
    # leaf's `inside` and was seen by another's walk, which stored its new startDate.
    candidates -= seen
    if candidates and run.to_update_date is not None:
        # An item whose startDate changed after this sync's update window was read is in
        # the mirror at its old second, which a walk may show empty while the item lives at
        # the new one (possibly in no drifting window: its two moves cancel out). Whatever
        # changed since the window's end is read before anything is deleted (one request
        # on most days), and stored.
        since = s.scan(run, kind, Window(update=Range(run.to_update_date)), collect_ids=True)
        report.counts = report.counts + since.totals.counts
        candidates -= since.seen
        if not since.verified:
            report.unverified += since.unverified or ["changed since the sync's window"]
            candidates.clear()
    report.deferred = bool(report.unverified)
    report.would_vanish = sum(present[c][1] for c in candidates)
    report.live_rows = sum(is_live for _, is_live in present.values())
    if not guard.take(report.would_vanish):
        report.refused = True
    else:
        held = set(quarantined(s.conn, kind))
        s.lock.ensure()
        resolve_quarantined(s.conn, kind, candidates & held)
        report.vanished = vanish(s.conn, kind, run.id, candidates - held)
    report.requests = s.client.stats.requests - requests_before
    log.info("count probe", **report.details())  # what it found, and what it did
    return report


_LOADED = """
SELECT EXISTS (SELECT FROM hotstar_sync_log WHERE content_type = %s AND status = 'completed'
               AND sync_type IN ('initial', 'reconcile'))
"""


def verify(settings: Settings, *, kind: ContentType = MOVIE, url: str | None = None) -> ProbeReport:
    """The same probes, read-only: nothing is fetched beyond counts, nothing written."""
    (report,) = verify_types(settings, [kind], url=url).values()
    assert report is not None  # one type asked for: probed whether loaded or not
    return report


def verify_types(
    settings: Settings,
    kinds: Sequence[ContentType],
    *,
    url: str | None = None,
    only_loaded: bool = False,
) -> dict[str, ProbeReport | None]:
    """`verify` for each of `kinds` that a count probe applies to, by name; with
    `only_loaded`, a type with no complete pass in this database is None (not probed)."""
    url = url or database_url(settings)
    schema.require_head(url)
    tokens = TokenProvider(settings.resolved_secret(), settings.token_window_seconds)
    reports: dict[str, ProbeReport | None] = {}
    with connect(url) as conn, PartnerClient(settings, tokens) as client:
        for kind in kinds:
            if only_loaded and not _loaded(conn, kind):
                reports[kind.name] = None
                continue
            before = client.stats.requests
            report = _bisect(counted_rows(conn, kind), api_counter(client, kind))
            report.requests = client.stats.requests - before
            reports[kind.name] = report
    return reports


def _loaded(conn: Conn, kind: ContentType) -> bool:
    try:
        row = conn.execute(_LOADED, (kind.name,)).fetchone()
        conn.commit()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the sync log: {exc.diag.message_primary}") from exc
    return bool(row and row[0])

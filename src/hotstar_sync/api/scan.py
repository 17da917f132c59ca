"""Complete enumeration of a search endpoint under the 10,000 offset cap.

The scanner asks for a window's first page (orderBy=contentId, which is stable). When the
window holds at most 10,000 items it walks the offsets; otherwise it splits the window
(`model.windows.split_window`: startDate from the probe page's sample, then updateDate
inside one second, then premium) and recurses; the probe page's items are still yielded
for storing. They are the lowest contentIds of the parent's answer, so each child knows
its own lowest ones and starts its walk after them (`_child_prefix`): a split costs no
page read twice. A window that cannot be split but holds at most 20,000 items is walked
in both orders; beyond that it is reported as a gap.

Proof of completeness, window by window:
- a walked window is verified when its distinct ids equal its totalResults, and the total
  did not move during the walk; otherwise it is walked again (offset paging drifts when
  items come and go), up to `max_walks` times;
- a split window is verified when every child is and the children's ids add up to its
  total: the items each child owns (inside its box) plus the items its answer held outside
  the parent's box (its "edge": boundary seconds, under inclusive bounds). When they do not
  add up, one `size=1` request re-reads the total in case it moved.
A pass is complete only when the root window is verified. A type whose catalogue is the
union of disjoint partitions (matches: `live=true|false`; seasons: one `showId` each) is
scanned as one root per partition, and the pass is verified when every root is.

The scanner knows no database. Pages come out of `scan()` as `ScanPage`s; the last page of
a window carries its `WindowResult`, so a job can commit the page and the window's
checkpoint together. `known` results (from checkpoints) let a resumed run skip finished
windows and reuse the split plans it already made.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from hotstar_sync.api import hunt
from hotstar_sync.api.client import SearchPage
from hotstar_sync.model.windows import (
    OFFSET_CAP,
    ItemMark,
    Range,
    Window,
    WindowResult,
    split_window,
)

log = structlog.get_logger(__name__)

Fetch = Callable[[dict[str, Any]], SearchPage]
Mark = Callable[[Any], ItemMark]
Partition = tuple[tuple[str, Any], ...]


@dataclass
class ScanPage:
    window: Window
    items: list[Any]
    #: Set on a window's last page (or its plan, for a window that was split).
    done: WindowResult | None = None


ScanGen = Generator[ScanPage, None, WindowResult]

#: Consecutive pages share this many items, so a list that slid under us is noticed.
OVERLAP = 2
#: Re-reads of a previous page allowed in one walk before it counts as not contiguous.
MAX_STEP_BACKS = 20


@dataclass
class _Walk:
    last: SearchPage
    seen: dict[str, ItemMark] = field(default_factory=dict)
    requests: int = 0
    contiguous: bool = True
    reached_end: bool = False
    stable: bool = True


def _id_order(content_id: str) -> tuple[int, str]:
    """contentIds are digit strings: compare them as numbers."""
    return (len(content_id), content_id)


class Scanner:
    def __init__(
        self,
        fetch: Fetch,
        *,
        page_size: int = 1000,
        cap: int = OFFSET_CAP,
        max_walks: int = 3,
        known: Mapping[str, WindowResult] | None = None,
        order_by: str = "contentId",
        mark: Mark = ItemMark.of,
        partitions: Iterable[Partition] = ((),),
    ) -> None:
        self._fetch = fetch
        self._size = page_size
        self._cap = cap
        self._max_walks = max_walks
        self._known = dict(known or {})
        self._order_by = order_by
        self._mark = mark
        self._partitions = partitions
        self.requests = 0
        self.unverified: list[WindowResult] = []
        # Of the partition being scanned (see `_hunt`): the update seconds of the items
        # counted so far, the items no child's box places, and whether every window was
        # counted in this process (not skipped by a checkpoint).
        self._updates = array("q")
        self._unplaced: dict[str, ItemMark] = {}
        self._counts_whole = True

    def scan(self, root: Window | None = None) -> Iterator[ScanPage]:
        """Yield every page of a complete pass; `self.result` holds the root's verdict
        (for several partitions, their sum: verified when every partition is)."""
        root = root or Window()
        results = []
        for partition in self._partitions:
            part = replace(root, fixed=root.fixed + partition) if partition else root
            self._updates, self._unplaced, self._counts_whole = array("q"), {}, True
            results.append((yield from self._scan(part)))
        if len(results) == 1:
            self.result = results[0]
            return
        self.result = WindowResult(
            root,
            sum(r.total for r in results),
            owned=sum(r.owned for r in results),
            verified=all(r.verified for r in results),
            requests=sum(r.requests for r in results),
        )

    # -- one window ---------------------------------------------------------------------

    def _scan(self, window: Window, prefix: Sequence[ItemMark] = ()) -> ScanGen:
        """Scan `window`; `prefix` holds its answer's lowest contentIds, known already."""
        known = self._known.get(window.key)
        if known is not None and known.status != "split":
            self._counts_whole = False  # its items were counted by an earlier process
            return known
        lowest: list[ItemMark] = []
        sample: list[ItemMark] = []
        if known is not None:
            assert known.children is not None
            children, total, requests = known.children, known.total, 0
        else:
            if len(prefix) <= OVERLAP or len(prefix) - OVERLAP + self._size > self._cap:
                prefix = ()
            first = self._get(window, max(0, len(prefix) - OVERLAP))
            total, requests = first.total_results, 1
            if total <= self._cap:
                return (yield from self._walk(window, first, prefix))
            page = [self._mark(i) for i in first.items]
            # The prefix and the page share OVERLAP items: one mark per answer.
            sample = list({m.ident: m for m in [*prefix, *page]}.values())
            children = split_window(window, sample, total)
            if not children:
                return (yield from self._unsplittable(window, first, prefix))
            plan = WindowResult(window, total, requests=1, children=children, is_plan=True)
            log.info("window split", window=window.key, total=total, children=len(children))
            yield ScanPage(window, first.items, plan)
            # The page continues the prefix when the two overlap (see `_child_prefix`).
            follows = not prefix or not {m.ident for m in prefix}.isdisjoint(m.ident for m in page)
            lowest = sorted(sample if follows else prefix, key=lambda m: _id_order(m.content_id))
        results = []
        for child in children:
            results.append((yield from self._scan(child, _child_prefix(child, lowest))))
        result = self._combine(window, total, results, requests, sample)
        if not result.verified and all(r.verified for r in results):
            # The children are fine; the parent's total may have moved meanwhile.
            result.total = self._get(window, 0, size=1).total_results
            result.requests += 1
            result.verified = result.owned + len(result.edge) == result.total
        missing = result.total - result.owned - len(result.edge)
        if missing > 0 and all(r.verified for r in results):
            requests = yield from self._hunt(window, children, missing, result)
            result.requests += requests
            result.verified = result.owned + len(result.edge) == result.total
        return (yield from self._finish(window, [], result))

    def _combine(
        self,
        window: Window,
        total: int,
        results: list[WindowResult],
        requests: int,
        sample: Sequence[ItemMark] = (),
    ) -> WindowResult:
        """The split window's result from its children's.

        Each child owns the items its box holds by their values; the items its answer held
        outside its box (its edge) are owned by a sibling, or lie outside this window too
        (this window's edge), or have a value no box can place (a startDate of "2019-05-01",
        a premium of null): the API put them somewhere, and where is its business. Those
        are counted here, once, in the window whose answer held them all along: found in
        a child's answer or in this window's own first page (`sample`).
        """
        children = [r.window for r in results]
        edge: dict[str, ItemMark] = {}
        unplaced: dict[str, ItemMark] = {}
        for mark in (m for r in results for m in r.edge.values()):
            if not window.owns(mark):
                edge[mark.ident] = mark
            elif not any(child.owns(mark) for child in children):
                unplaced[mark.ident] = mark
        for mark in sample:
            if window.owns(mark) and not any(child.owns(mark) for child in children):
                unplaced[mark.ident] = mark
        self._unplaced.update(unplaced)
        self._note(unplaced.values())
        owned = sum(r.owned for r in results) + len(unplaced)
        if unplaced:
            log.info("items no filter value places", window=window.key, count=len(unplaced))
        return WindowResult(
            window,
            total,
            owned=owned,
            edge=edge,
            verified=all(r.verified for r in results) and owned + len(edge) == total,
            requests=requests + sum(r.requests for r in results),
            children=[r.window for r in results],
        )

    def _finish(self, window: Window, items: list[dict[str, Any]], result: WindowResult) -> ScanGen:
        if not result.verified:
            self.unverified.append(result)
            log.warning(
                "window not verified",
                window=window.key,
                total=result.total,
                seen=result.owned + len(result.edge),
            )
        yield ScanPage(window, items, result)
        return result

    # -- items no filter range holds (`api.hunt`) -------------------------------------------

    def _hunt(
        self, window: Window, children: Sequence[Window], missing: int, result: WindowResult
    ) -> Generator[ScanPage, None, int]:
        """Look for the `missing` items of `window` that no child's answer held, with
        searches that do without the split's filter; they are stored and counted in
        `result`. Returns the requests made."""
        total = result.total
        finder = hunt.Finder(window, children, self._unplaced, result.edge, self._mark)
        searches: list[hunt.Hunt] = []
        by_start = bool(children) and children[0].start != window.start
        if by_start and window.start == Range() and self._counts_whole:
            counted = sorted(self._updates)
            searches.append(
                hunt.by_update(finder, self._get, counted, missing, self._size, self._cap)
            )
        if total <= 2 * self._cap:  # items no range of any filter holds: the answer itself
            searches.append(hunt.both_orders(finder, self._get, missing, self._size, self._cap))
        if not searches:
            return 0
        log.info("looking for items no filter range holds", window=window.key, missing=missing)
        requests = 0
        for search in searches:
            if finder.count < missing:
                requests += yield from _as_pages(window, search)
        self._unplaced.update(finder.found)
        self._note(finder.found.values())
        result.owned += len(finder.found)
        result.edge.update(finder.found_edge)
        log.info("items found", window=window.key, found=finder.count, requests=requests)
        return requests

    def _note(self, marks: Iterable[ItemMark]) -> None:
        """Count `marks` (items owned, and counted, by the window done) for `_hunt`."""
        self._updates.extend(
            m.update
            for m in marks
            if isinstance(m.update, int) and not isinstance(m.update, bool) and _fits(m.update)
        )

    # -- walking ------------------------------------------------------------------------

    def _walk(self, window: Window, first: SearchPage, prefix: Sequence[ItemMark] = ()) -> ScanGen:
        requests = 1
        for attempt in range(1, self._max_walks + 1):
            walk = yield from self._pages(window, first, prefix)
            requests += walk.requests
            total = first.total_results
            result = self._leaf_result(window, total, walk.seen, requests)
            # Totals that never moved must match what was seen; under churn, the overlap
            # between consecutive pages is the proof that nothing slid past.
            consistent = not walk.stable or len(walk.seen) == total
            result.verified = walk.contiguous and walk.reached_end and consistent
            if result.verified or attempt == self._max_walks:
                self._note(m for m in walk.seen.values() if window.owns(m))
                return (yield from self._finish(window, walk.last.items, result))
            log.info("walking window again", window=window.key, total=total, seen=len(walk.seen))
            yield ScanPage(window, walk.last.items)
            first, prefix = self._get(window, 0), ()
            requests += 1
        raise AssertionError("unreachable")

    def _pages(
        self, window: Window, first: SearchPage, prefix: Sequence[ItemMark] = ()
    ) -> Generator[ScanPage, None, _Walk]:
        """Walk `window` in its order from `first`, yielding every page but the last
        (returned in the `_Walk`, so the caller can attach the verdict to it).

        Each page starts `OVERLAP` items before the previous one ended. A page that shares
        no contentId with the previous one means items before it were removed and the list
        slid past some not yet seen: the previous offset is read again, so nothing is lost.
        `first` is the page at offset 0, or, after a known `prefix` (the answer's lowest
        contentIds, read with a parent window), the page `OVERLAP` items before its end;
        the prefix counts as a page read at offset 0.
        """
        walk = _Walk(last=first)
        page, offset, total = first, max(0, len(prefix) - OVERLAP), first.total_results
        previous: tuple[set[str], int] | None = None
        if prefix:
            walk.seen.update((m.ident, m) for m in prefix)
            previous = ({m.ident for m in prefix}, 0)
        step_backs = 0
        while True:
            marks = _by_ident(map(self._mark, page.items))
            if previous is not None and page.items and previous[0].isdisjoint(marks):
                if step_backs < MAX_STEP_BACKS and offset != previous[1]:
                    step_backs += 1
                    walk.seen.update(marks)
                    yield ScanPage(window, page.items)
                    offset = previous[1]
                    page = self._get(window, offset, min(self._size, self._cap - offset))
                    walk.requests += 1
                    continue
                walk.contiguous = False
            walk.seen.update(marks)
            walk.stable = walk.stable and page.total_results == total
            requested = min(self._size, self._cap - offset)
            next_offset = offset + len(page.items) - OVERLAP
            walk.reached_end = (
                len(page.items) < requested or offset + len(page.items) >= page.total_results
            )
            if walk.reached_end or self._cap - next_offset <= OVERLAP:
                walk.last = page
                return walk
            yield ScanPage(window, page.items)
            previous = (set(marks), offset)
            offset = next_offset
            page = self._get(window, offset, min(self._size, self._cap - offset))
            walk.requests += 1

    def _unsplittable(
        self, window: Window, first: SearchPage, prefix: Sequence[ItemMark] = ()
    ) -> ScanGen:
        """One second, one update second, one premium value, and still over the cap: walk
        it in ascending and descending contentId order; together they reach 2 x cap."""
        ascending = yield from self._pages(window, first, prefix)
        yield ScanPage(window, ascending.last.items)
        descending_window = replace(window, order="desc")
        descending = yield from self._pages(descending_window, self._get(descending_window, 0))
        seen = ascending.seen | descending.seen
        requests = 2 + ascending.requests + descending.requests
        result = self._leaf_result(window, first.total_results, seen, requests)
        self._note(m for m in seen.values() if window.owns(m))
        # The two walks meet when the highest id read going up reaches the lowest going down
        # (only an order by contentId tells).
        up = [_id_order(m.content_id) for m in ascending.seen.values() if m.content_id]
        down = [_id_order(m.content_id) for m in descending.seen.values() if m.content_id]
        meet = self._order_by == "contentId" and bool(up) and bool(down) and max(up) >= min(down)
        result.verified = (
            ascending.contiguous
            and descending.contiguous
            and (ascending.reached_end or descending.reached_end or meet)
        )
        return (yield from self._finish(window, descending.last.items, result))

    def _leaf_result(
        self, window: Window, total: int, seen: dict[str, ItemMark], requests: int
    ) -> WindowResult:
        edge = {k: m for k, m in seen.items() if not window.owns(m)}
        return WindowResult(window, total, len(seen) - len(edge), edge, requests=requests)

    def _get(self, window: Window, offset: int, size: int | None = None) -> SearchPage:
        self.requests += 1
        params = {
            "orderBy": self._order_by,
            "order": window.order,
            "offset": offset,
            "size": size or self._size,
            **window.params(),
        }
        return self._fetch(params)


def _fits(value: int) -> bool:
    return -(2**63) <= value < 2**63


def _by_ident(marks: Iterable[ItemMark]) -> dict[str, ItemMark]:
    """A page's marks by answer. Items with nothing to tell them apart but their hash (two
    `null` items) are two answers, which the API counts twice: a hash seen again in the
    same page is numbered."""
    out: dict[str, ItemMark] = {}
    for mark in marks:
        if mark.ident in out and mark.key.startswith("sha:"):
            n = 2
            while f"{mark.key}/{n}" in out:
                n += 1
            mark = replace(mark, key=f"{mark.key}/{n}")
        out[mark.ident] = mark
    return out


def _as_pages(window: Window, search: hunt.Hunt) -> Generator[ScanPage, None, int]:
    """The items a hunt finds, as pages of `window`; returns its requests."""
    while True:
        try:
            items = next(search)
        except StopIteration as done:
            requests: int = done.value
            return requests
        yield ScanPage(window, items)


def _child_prefix(child: Window, lowest: Sequence[ItemMark]) -> list[ItemMark]:
    """The lowest contentIds of `child`'s answer among `lowest`, its parent's.

    `lowest` is every item of the parent's answer up to its highest contentId (the parent's
    first page, after its own prefix), in contentId order. A child's answer is part of its
    parent's, so the child's items up to that id are among them: those its box owns. An
    item at one of the child's widened boundary seconds may or may not be in its answer
    (the bound rule is unknown), so the prefix stops below the first such item.
    """
    if any(not m.content_id and not child.excludes(m) for m in lowest):
        # A keyless item has no place in contentId order that we could know of.
        return []
    prefix = []
    for mark in lowest:
        if child.owns(mark):
            prefix.append(mark)
        elif not child.excludes(mark):
            break
    return prefix

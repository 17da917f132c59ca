"""Finding the items a split missed: odd values that no filter range holds.

A split window's children partition its box, so together their answers hold every item
the window holds, unless the index leaves a value it cannot read ("2019-05-01", null, a
boolean) out of every range of that filter: then only searches without the filter find
the item. When a split comes up short (its children verified, their counts below the
window's total), the scanner (`api.scan`) asks this module to look for the missing items
with searches that do without the split's filter:

- a window open in startDate (a partition's root) split by startDate: by updateDate. A
  range's totalResults against the items counted so far with an update second inside it
  tells whether it holds a missing item; such ranges are halved at the counted items'
  median, or walked once walking is cheaper, about 2 log2(N / page) requests an item;
- a window of one startDate second split by updateDate or premium (at most 2 x 10,000
  items): its own answer, walked in ascending and descending contentId order.

The items found are those the window owns and none of its children would (`Finder`):
the scanner stores them and counts them in the window. The searches yield the found
items page by page and return the requests they made. No database, no HTTP of its own.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hotstar_sync.api.client import SearchPage
from hotstar_sync.model.windows import ItemMark, Range, Window

#: Requests a hunt may spend on each missing item, and on one window at most: a window
#: that came up short for another reason (items added while the pass ran) costs no more.
REQUESTS_PER_ITEM = 12
MAX_REQUESTS = 100

Get = Callable[[Window, int, int], SearchPage]
Hunt = Generator[list[Any], None, int]


class Finder:
    """What a hunt is after: items of the window's answer that no child's answer held and
    that are not counted yet (`known`, `edge`): owned by the window but by none of
    `children` (`found`), or outside the window's box (`found_edge`: its answer holds a
    neighbour's boundary second, and its children's answers did not)."""

    def __init__(
        self,
        window: Window,
        children: Sequence[Window],
        known: Mapping[str, ItemMark],
        edge: Mapping[str, ItemMark],
        mark: Callable[[Any], ItemMark],
    ) -> None:
        self.window, self.children, self.mark = window, children, mark
        self.known, self.edge = known, edge
        self.found: dict[str, ItemMark] = {}
        self.found_edge: dict[str, ItemMark] = {}

    @property
    def count(self) -> int:
        return len(self.found) + len(self.found_edge)

    def take(self, items: list[Any]) -> list[Any]:
        """The items of a page this hunt is after, now counted as found."""
        new = []
        for item, mark in zip(items, map(self.mark, items), strict=True):
            key = mark.ident
            if key in self.found or key in self.found_edge:
                continue
            if not self.window.owns(mark):
                if key not in self.edge:
                    self.found_edge[key] = mark
                    new.append(item)
            elif key not in self.known and not any(c.owns(mark) for c in self.children):
                self.found[key] = mark
                new.append(item)
        return new


def by_update(
    finder: Finder, get: Get, counted: Sequence[int], missing: int, size: int, cap: int
) -> Hunt:
    """Look for the missing items of a startDate split by updateDate (module docstring);
    `counted` is the sorted update seconds of the items counted so far."""
    window, budget = finder.window, _budget(missing)
    pending, requests = halve(counted, window.update), 0
    while pending and finder.count < missing and requests < budget:
        rng = pending.pop()
        part = replace(window, update=rng)
        page = get(part, 0, size)
        requests += 1
        if new := finder.take(page.items):
            yield new
        # Counted over the widened request: its bound seconds were cut where none lies.
        widened = Range(
            None if rng.lo is None else rng.lo - 1, None if rng.hi is None else rng.hi + 1
        )
        total, excess = page.total_results, page.total_results - count_in(counted, widened)
        if total <= len(page.items) or excess <= 0:
            continue  # the whole range was on the page, or it holds no more than counted
        pages = math.ceil(min(total, cap) / size)
        if total <= cap and pages - 1 <= excess * 2 * math.log2(pages + 1):
            # Walking the range costs less than finding each item by halving it.
            for offset in range(size, total, size):
                requests += 1
                if new := finder.take(get(part, offset, min(size, cap - offset)).items):
                    yield new
            continue
        pending.extend(halve(counted, rng))
    return requests


def both_orders(finder: Finder, get: Get, missing: int, size: int, cap: int) -> Hunt:
    """Walk the window's own answer up, then down as far as the way up could not reach
    (module docstring), until the missing items are found: at most 2 x cap / size pages."""
    requests, reach = 0, cap
    for order in ("asc", "desc"):
        part = replace(finder.window, order=order)
        for offset in range(0, reach, size):
            page = get(part, offset, min(size, cap - offset))
            requests += 1
            if new := finder.take(page.items):
                yield new
            if finder.count >= missing:
                return requests
            if offset + len(page.items) >= page.total_results:
                return requests  # the whole answer was read
            # Going down, the items the way up did not reach are the last total - cap.
            reach = min(cap, page.total_results - cap + size)
    return requests


def _budget(missing: int) -> int:
    return min(REQUESTS_PER_ITEM * missing, MAX_REQUESTS)


def count_in(values: Sequence[int], rng: Range) -> int:
    """How many of the sorted `values` lie in `rng`."""
    lo = 0 if rng.lo is None else bisect.bisect_left(values, rng.lo)
    hi = len(values) if rng.hi is None else bisect.bisect_right(values, rng.hi)
    return max(0, hi - lo)


def halve(values: Sequence[int], rng: Range) -> list[Range]:
    """`rng` cut in two contiguous halves near the median of the sorted `values` inside it;
    [] for a single second. Contiguous, so every second is in one half; and where the
    values allow, cut so that the two seconds both widened requests hold (the cut and the
    one after it, `Window.params`) hold no value: then a half's count of values is what
    its answer should count, whatever the bound rule."""
    if rng.is_single:
        return []
    lo = 0 if rng.lo is None else bisect.bisect_left(values, rng.lo)
    hi = len(values) if rng.hi is None else bisect.bisect_right(values, rng.hi)
    if hi > lo:
        middle = (lo + hi - 1) // 2
        cut = values[middle]
        for step in range(hi - lo):  # outwards from the median, for a gap of 3 seconds
            found = [
                i
                for i in (middle + step, middle - step)
                if lo <= i < hi - 1 and values[i + 1] - values[i] >= 3
            ]
            if found:
                cut = values[found[0]] + 1
                break
    elif rng.lo is not None and rng.hi is not None:
        cut = (rng.lo + rng.hi) // 2
    else:
        cut = rng.lo if rng.lo is not None else (rng.hi - 1 if rng.hi is not None else 0)
    if rng.hi is not None:
        cut = min(cut, rng.hi - 1)
    if rng.lo is not None:
        cut = max(cut, rng.lo)
    return [Range(rng.lo, cut), Range(cut + 1, rng.hi)]

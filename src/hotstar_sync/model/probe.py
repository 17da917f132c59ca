"""Count probes: where the API's count and the mirror's differ, by bisection. Pure logic.

A search answer's `totalResults` costs one request (size=1) however many items it counts.
Comparing it with the mirror's count of present items (every row not 'vanished') says
whether anything vanished, or was missed, without fetching a page.

Windows are cut only at seconds where the mirror holds no item, and a window [lo, hi] is
asked for as `fromStartDate = lo - 1, toStartDate = hi + 1` (see `model.windows.Window`):
those bound seconds are empty in the mirror, so the mirror's count of the window is the same
whichever way the API treats its bounds, and both sides count with the same bounds. An item
the API has at such a second (and the mirror lacks) makes the counts differ, as it should.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from hotstar_sync.model.windows import Range

#: Fetching a window this small costs one request: cheaper than probing it further.
FETCH_ITEMS = 900


@dataclass(frozen=True, slots=True)
class Probed:
    """A window with both counts."""

    window: Range
    api: int
    mirror: int

    @property
    def drift(self) -> int:
        return self.api - self.mirror


class MirrorIndex:
    """The mirror's present startDates, sorted, for counting and cutting windows."""

    def __init__(self, start_dates: Iterable[int]) -> None:
        self._sds = sorted(start_dates)

    def __len__(self) -> int:
        return len(self._sds)

    def count(self, rng: Range) -> int:
        lo = 0 if rng.lo is None else bisect.bisect_left(self._sds, rng.lo)
        hi = len(self._sds) if rng.hi is None else bisect.bisect_right(self._sds, rng.hi)
        return max(0, hi - lo)

    def split(self, rng: Range) -> tuple[Range, Range] | None:
        """Two halves of `rng` by item count, cut at a second the mirror holds no item in
        (the cut second belongs to neither half's items, only to both requests' bounds).
        None when no such second exists inside the range."""
        lo = 0 if rng.lo is None else bisect.bisect_left(self._sds, rng.lo)
        hi = len(self._sds) if rng.hi is None else bisect.bisect_right(self._sds, rng.hi)
        if hi - lo < 2:
            return None
        middle = (lo + hi) // 2
        # Look outwards from the median for two neighbouring items with a free second
        # between them.
        for step in range(hi - lo):
            for i in (middle + step, middle - step):
                if lo < i < hi and self._sds[i] - self._sds[i - 1] >= 2:
                    cut = self._sds[i - 1] + 1
                    return Range(rng.lo, cut - 1), Range(cut + 1, rng.hi)
        return None

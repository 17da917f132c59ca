"""The deletion guard: how many live rows one run may soft-delete. Pure, no I/O.

Every kind of deletion counts against one budget per run and type: items served
UNPUBLISHED or with a past endDate (written page by page), rows expired by the clock, and
rows that vanished. An API that suddenly answers UNPUBLISHED for every item must not empty
the mirror in one night, any more than one that stops returning them: past
HOTSTAR_DELETE_GUARD_FRACTION of the live rows at the run's start, the run is refused
(nothing more deleted; `--force` applies it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


def refuses(would_delete: int, live_rows: int, fraction: float) -> bool:
    """Whether deleting `would_delete` of `live_rows` live rows is more than the guard
    allows."""
    return would_delete > fraction * live_rows


@dataclass
class DeletionBudget:
    """One run's deletions so far against the guard; shared by the run's page writers."""

    live_rows: int
    fraction: float
    force: bool = False
    used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, count: int) -> bool:
        """Count `count` more deletions, unless that is more than the guard allows (then
        nothing is counted and the caller deletes nothing)."""
        with self._lock:
            if (
                count
                and not self.force
                and refuses(self.used + count, self.live_rows, self.fraction)
            ):
                return False
            self.used += count
            return True

    def allows(self, count: int) -> bool:
        """Whether `count` more deletions would pass, without counting them."""
        with self._lock:
            return self.force or not refuses(self.used + count, self.live_rows, self.fraction)

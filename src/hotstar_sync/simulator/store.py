"""The items of one content type, as a search index serves them.

Each item is serialised once (`Entry.data`), so a 1,000-item page is a join of cached bytes.
The ordered, filtered lists behind a query are cached per filter and dropped whenever the
visible items change. A change is staged with the moment it becomes visible (the search
index lags behind its source: API contract, "What the API does not tell you").
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hotstar_sync.simulator.content import ContentType

#: How many filtered lists to keep; a scanner walking windows reuses each only briefly.
CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Entry:
    """One version of one item."""

    content_id: str
    #: The values the filters and orderings read. They come from the well-formed item, as a
    #: search index holds typed values even where the stored document is broken.
    index: dict[str, Any]
    raw: dict[str, Any]
    data: bytes
    malformed: str | None  # why the item breaks the contract, or None

    @classmethod
    def make(cls, kind: ContentType, item: dict[str, Any], malformed: str | None = None) -> Entry:
        fields = {f for f in kind.order_by.values()}
        fields |= {r.field for r in kind.ranges} | set(kind.flags)
        fields |= {"contentId", "assetStatus", "endDate", "id"}
        index = {name: item[name] for name in fields}
        index["contentId"] = int(item["contentId"])  # ordered as a number
        return cls(item["contentId"], index, item, orjson.dumps(item), None).corrupt(malformed)

    def corrupt(self, malformed: str | None) -> Entry:
        """This entry with its stored document broken as `malformed` describes (see BREAKS)."""
        if malformed is None:
            return self
        raw = dict(self.raw)
        field, value = BREAKS[malformed]
        raw[field] = value
        return Entry(self.content_id, self.index, raw, orjson.dumps(raw), malformed)

    def changed(self, **fields: Any) -> Entry:
        """A new version with `fields` set, in the document and in the index alike."""
        raw = self.raw | fields
        if self.malformed is not None:  # broken for good: an update does not mend it
            broken_field, value = BREAKS[self.malformed]
            raw[broken_field] = value
        index = self.index | {k: v for k, v in fields.items() if k in self.index}
        return Entry(self.content_id, index, raw, orjson.dumps(raw), self.malformed)


#: The ways an item stays broken for good: its reason -> (field, value).
BREAKS: dict[str, tuple[str, Any]] = {
    "title is null": ("title", None),
    "year is not a number": ("year", "nineteen ninety"),
    "duration is a string": ("duration", "2h 10m"),
    "genre is not a list": ("genre", {"name": "Drama"}),
    "premium is not a boolean": ("premium", "yes"),
}


@dataclass(frozen=True, slots=True)
class Query:
    """A validated search: inclusive integer ranges, flags, one ordering and a page."""

    order_field: str
    descending: bool
    offset: int
    size: int
    ranges: tuple[tuple[str, int | None, int | None], ...]
    flags: tuple[tuple[str, bool], ...]


class _Ordered:
    """The items matching one filter, ascending by one field, with that field's values."""

    __slots__ = ("entries", "keys")

    def __init__(self, entries: list[Entry], field: str) -> None:
        entries.sort(key=lambda e: (e.index[field], e.index["contentId"]))
        self.entries = entries
        self.keys = [e.index[field] for e in entries]


class Collection:
    """The visible items of one content type, the changes still in flight, and the removed."""

    def __init__(self, kind: ContentType, entries: Iterable[Entry], tie_seed: int) -> None:
        self.kind = kind
        self._visible = {e.content_id: e for e in entries}
        self._latest = dict(self._visible)  # as it will be once every staged change lands
        self._removed: set[str] = set()
        self._pending: list[tuple[float, int, str, Entry | None]] = []
        self._sequence = itertools.count()
        self._cache: OrderedDict[tuple[object, ...], _Ordered] = OrderedDict()
        self._lock = threading.Lock()
        # Ties in a startDate ordering are shuffled per request, as the real API's are.
        self._ties = random.Random(tie_seed)

    def latest(self) -> dict[str, Entry]:
        """Every item as it will be once the index catches up (a copy)."""
        with self._lock:
            return dict(self._latest)

    def stage(self, changes: Sequence[tuple[str, Entry | None]], visible_at: float) -> None:
        """Record changes (None: a silent removal) that searches see from `visible_at` on."""
        with self._lock:
            for content_id, entry in changes:
                if entry is None:
                    self._latest.pop(content_id, None)
                else:
                    self._latest[content_id] = entry
                heapq.heappush(self._pending, (visible_at, next(self._sequence), content_id, entry))
            self._settle()

    def _settle(self) -> None:
        now = time.time()
        landed = False
        while self._pending and self._pending[0][0] <= now:
            _, _, content_id, entry = heapq.heappop(self._pending)
            landed = True
            if entry is None:
                if self._visible.pop(content_id, None) is not None:
                    self._removed.add(content_id)
            else:
                self._visible[content_id] = entry
        if landed:
            self._cache.clear()

    def snapshot(self) -> tuple[list[Entry], set[str], int]:
        """The visible items by contentId, the removed ids, and the changes not yet visible."""
        with self._lock:
            self._settle()
            entries = sorted(self._visible.values(), key=lambda e: e.index["contentId"])
            return entries, set(self._removed), len(self._pending)

    def search(self, query: Query) -> tuple[int, list[Entry]]:
        """The total number of matches and the page `query` asks for."""
        with self._lock:
            self._settle()
            ordered = self._ordered(query)
            total = len(ordered.entries)
            # Work on ascending positions; a descending page is the mirror image.
            if query.descending:
                low, high = max(0, total - query.offset - query.size), total - query.offset
            else:
                low, high = query.offset, min(total, query.offset + query.size)
            if low >= high:
                return total, []
            if query.order_field == "contentId":  # unique: a stable order
                page = ordered.entries[low:high]
            else:
                page = self._shuffled_ties(ordered, low, high)
        if query.descending:
            page.reverse()
        return total, page

    def _ordered(self, query: Query) -> _Ordered:
        key = (query.order_field, query.ranges, query.flags)
        ordered = self._cache.get(key)
        if ordered is not None:
            self._cache.move_to_end(key)
            return ordered
        matches = [e for e in self._visible.values() if _matches(e.index, query)]
        ordered = _Ordered(matches, query.order_field)
        self._cache[key] = ordered
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return ordered

    def _shuffled_ties(self, ordered: _Ordered, low: int, high: int) -> list[Entry]:
        """Positions low..high, each run of equal keys in a fresh random order.

        One permutation per run per request: a run that spans two pages can then repeat
        items on the second page and skip others, as the guide warns.
        """
        keys, entries, page = ordered.keys, ordered.entries, []
        i = low
        while i < high:
            start = bisect.bisect_left(keys, keys[i])
            end = bisect.bisect_right(keys, keys[i])
            if end - start == 1:
                page.append(entries[i])
            else:
                run = entries[start:end]
                self._ties.shuffle(run)
                page.extend(run[i - start : min(high, end) - start])
            i = min(high, end)
        return page


def _matches(index: dict[str, Any], query: Query) -> bool:
    for field, low, high in query.ranges:
        value = index[field]
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return all(index[field] == wanted for field, wanted in query.flags)

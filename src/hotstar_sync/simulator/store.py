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
import math
import random
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hotstar_sync.simulator.content import BREAKS, ContentType

#: How many filtered lists to keep; a scanner walking windows reuses each only briefly.
CACHE_SIZE = 256


#: Content type -> the item fields its index holds besides contentId.
_INDEX_FIELDS: dict[str, tuple[str, ...]] = {}


def dumps(item: dict[str, Any]) -> bytes:
    """The item as JSON, in bytes of its own size.

    orjson's bytes keep the buffer they grew in (16 KB for a 2 KB item); kept for 900,000
    items that is 14 GB, so the bytes are copied out once.
    """
    return memoryview(orjson.dumps(item)).tobytes()


@dataclass(frozen=True, slots=True)
class Entry:
    """One version of one item.

    Only the served bytes are kept, not the item as a dict: a dict of a 2 KB item costs
    about 15 KB of memory, which the 900,000 items of the whole catalogue cannot afford.
    """

    content_id: str  # a string whatever the type serves (a show's is a number)
    #: The values the filters and orderings read. They come from the well-formed item, as a
    #: search index holds typed values even where the stored document is broken.
    index: dict[str, Any]
    data: bytes
    malformed: str | None  # why the item breaks the contract, or None
    #: An odd item's ordinary self, before its quirk (`simulator.quirks`): what `raw` gives,
    #: so that the items made from it (a show's episodes) are ordinary. None: not odd.
    clean: bytes | None = None

    @classmethod
    def make(cls, kind: ContentType, item: dict[str, Any], malformed: str | None = None) -> Entry:
        fields = _INDEX_FIELDS.get(kind.name)
        if fields is None:
            names = set(kind.order_by.values()) | {r.field for r in kind.ranges}
            names |= {*kind.flags, *kind.ids, "assetStatus", "endDate", "id"}
            fields = _INDEX_FIELDS[kind.name] = tuple(sorted(names - {"contentId"}))
        index = {name: item[name] for name in fields}
        index["contentId"] = int(item["contentId"])  # ordered as a number
        entry = cls(str(item["contentId"]), index, dumps(item), None)
        return entry.corrupt(malformed)

    @property
    def raw(self) -> dict[str, Any]:
        """The item exactly as served, or an odd item's ordinary self (parsed anew: callers
        may change it)."""
        item: dict[str, Any] = orjson.loads(self.clean or self.data)
        return item

    def corrupt(self, malformed: str | None) -> Entry:
        """This entry with its stored document broken as `malformed` describes (see BREAKS)."""
        if malformed is None:
            return self
        field, value = BREAKS[malformed]
        raw = self.raw | {field: value}
        return Entry(self.content_id, self.index, dumps(raw), malformed)

    def changed(self, **fields: Any) -> Entry:
        """A new version with `fields` set, in the document and in the index alike."""
        raw = self.raw | fields
        if self.malformed is not None:  # broken for good: an update does not mend it
            broken_field, value = BREAKS[self.malformed]
            raw[broken_field] = value
        index = self.index | {k: v for k, v in fields.items() if k in self.index}
        return Entry(self.content_id, index, dumps(raw), self.malformed)


@dataclass(frozen=True, slots=True)
class Query:
    """A validated search: inclusive integer ranges, equalities, one ordering and a page."""

    order_field: str
    descending: bool
    offset: int
    size: int
    ranges: tuple[tuple[str, int | None, int | None], ...]
    equals: tuple[tuple[str, bool | int], ...]  # flags (premium=true) and ids (showId=7)


class _Ordered:
    """The items matching one filter, ascending by one field, with that field's values."""

    __slots__ = ("entries", "keys")

    def __init__(self, entries: list[Entry], field: str) -> None:
        entries.sort(key=lambda e: (_filed(e.index[field]), e.index["contentId"]))
        self.entries = entries
        self.keys = [_filed(e.index[field]) for e in entries]


def _filed(value: Any) -> Any:
    """An indexed value, orderable: an odd item filed under no value comes first."""
    return -math.inf if value is None else value


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
        # The visible items by the value of each id filter: a season search names one show
        # of 6,111, and scanning every season for each would cost more than the page.
        self._groups: dict[str, defaultdict[object, dict[str, Entry]]] = {
            name: defaultdict(dict) for name in kind.ids
        }
        for entry in self._visible.values():
            self._group(entry)

    def latest(self) -> dict[str, Entry]:
        """Every item as it will be once the index catches up (a copy)."""
        with self._lock:
            return dict(self._latest)

    def latest_in(self, field: str, values: set[object]) -> list[Entry]:
        """The items whose indexed `field` (such as showId) is one of `values`, as they will
        be, in contentId order."""
        with self._lock:
            found = [e for e in self._latest.values() if e.index[field] in values]
        return sorted(found, key=lambda e: e.index["contentId"])

    def stage(
        self,
        changes: Sequence[tuple[str, Entry | None]],
        visible_at: float,
        spread: tuple[random.Random, float] | None = None,
    ) -> None:
        """Record changes (None: a silent removal) that searches see from `visible_at` on;
        with `spread` (a generator, seconds), each from a random moment up to that later."""
        with self._lock:
            for content_id, entry in changes:
                if entry is None:
                    self._latest.pop(content_id, None)
                else:
                    self._latest[content_id] = entry
                at = visible_at + (spread[0].uniform(0, spread[1]) if spread else 0.0)
                heapq.heappush(self._pending, (at, next(self._sequence), content_id, entry))
            self._settle()

    def _group(self, entry: Entry, add: bool = True) -> None:
        for name, groups in self._groups.items():
            group = groups[entry.index[name]]
            if add:
                group[entry.content_id] = entry
            else:
                group.pop(entry.content_id, None)

    def _settle(self) -> None:
        now = time.time()
        landed = False
        while self._pending and self._pending[0][0] <= now:
            _, _, content_id, entry = heapq.heappop(self._pending)
            landed = True
            old = self._visible.pop(content_id, None)
            if old is not None:
                self._group(old, add=False)
            if entry is None:
                if old is not None:
                    self._removed.add(content_id)
            else:
                self._visible[content_id] = entry
                self._group(entry)
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
            ordered = self._ordered(query.order_field, query.ranges, query.equals)
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

    def _ordered(
        self,
        order_field: str,
        ranges: tuple[tuple[str, int | None, int | None], ...],
        equals: tuple[tuple[str, bool | int], ...],
    ) -> _Ordered:
        key = (order_field, ranges, equals)
        ordered = self._cache.get(key)
        if ordered is not None:
            self._cache.move_to_end(key)
            return ordered
        matches = [e for e in self._candidates(ranges, equals) if _matches(e.index, ranges, equals)]
        ordered = _Ordered(matches, order_field)
        self._cache[key] = ordered
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return ordered

    def _candidates(
        self,
        ranges: tuple[tuple[str, int | None, int | None], ...],
        equals: tuple[tuple[str, bool | int], ...],
    ) -> Iterable[Entry]:
        """A superset of the matches, cheaper than every item when a filter narrows it.

        A window of 686,432 episodes is a slice of them ordered by startDate, so a scanner's
        many windows each cost a bisection and their own items, not a pass over all.
        """
        for name, value in equals:
            if name in self._groups:
                return self._groups[name].get(value, {}).values()
        for name, low, high in ranges:
            if low is not None or high is not None:
                base = self._ordered(name, (), ())
                start = 0 if low is None else bisect.bisect_left(base.keys, low)
                end = len(base.keys) if high is None else bisect.bisect_right(base.keys, high)
                return base.entries[start:end]
        return self._visible.values()

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


def _matches(
    index: dict[str, Any],
    ranges: tuple[tuple[str, int | None, int | None], ...],
    equals: tuple[tuple[str, bool | int], ...],
) -> bool:
    for field, low, high in ranges:
        value = index[field]
        if value is None:  # an odd item filed under no value: outside every range
            if low is not None or high is not None:
                return False
        elif (low is not None and value < low) or (high is not None and value > high):
            return False
    return all(index[field] == wanted for field, wanted in equals)

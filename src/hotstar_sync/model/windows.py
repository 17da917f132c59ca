"""Windows over the filter space, and how to split them: pure functions, no I/O.

A `Window` is a box: an inclusive startDate range, an inclusive updateDate range (either end
may be open) and optionally a `premium` value. Its request asks for one second more on each
closed end (`fromStartDate = lo - 1`, `toStartDate = hi + 1`), so the box is inside the
answer whether the API treats bounds as inclusive, half-open or exclusive (the guide does
not say). Neighbouring windows therefore overlap by a boundary second; items answered
outside a window's box are its "edge" and are owned by a neighbour.

A window may also carry fixed parameters (a season search's `showId`, a match partition's
`live`) and the unit of its update filter (channels filter `esUpdateDate` in milliseconds):
the box's updateDate range stays in seconds, and only its request is scaled.

Splitting chooses boundaries from startDates actually seen (a sample), not the calendar,
and gives a heavily shared second (a bulk-import stamp) a window of its own.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

#: The API's cap: offset + size must not exceed this.
OFFSET_CAP = 10_000
#: Items a planned window aims at: full pages, with room for a sample's error.
TARGET_WINDOW_ITEMS = 8_500
#: Pieces one split makes at most. A probe page is a poor sample: contiguous contentIds,
#: which come in families (a season's episodes share an id range and nearby startDates), so
#: it places a few quantiles well, not eighty. A huge window is cut a few pieces at a time,
#: each child's first page sampling its own range; a child does not read its parent's probe
#: items again (`api.scan`), so a split costs little.
MAX_PIECES = 4


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range of epoch seconds; None is an open end."""

    lo: int | None = None
    hi: int | None = None

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):
            return self.lo is None and self.hi is None
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    @property
    def is_single(self) -> bool:
        return self.lo is not None and self.lo == self.hi

    def text(self) -> str:
        return f"{'' if self.lo is None else self.lo}..{'' if self.hi is None else self.hi}"


@dataclass(frozen=True, slots=True)
class Window:
    """A box of the filter space, walked in one `order` of contentId."""

    start: Range = field(default_factory=Range)
    update: Range = field(default_factory=Range)
    premium: bool | None = None
    order: str = "asc"
    #: Parameters every request of this window carries, as (name, value) pairs.
    fixed: tuple[tuple[str, Any], ...] = ()
    #: Units of the update filter per second (1000: epoch milliseconds).
    update_unit: int = 1

    @property
    def key(self) -> str:
        """A stable text key (checkpoints are stored under it)."""
        premium = "" if self.premium is None else str(self.premium).lower()
        key = f"start={self.start.text()};update={self.update.text()};premium={premium}"
        # Only windows with fixed parameters say so: plain windows keep their old keys.
        return key + "".join(f";{name}={_text(value)}" for name, value in self.fixed)

    def params(self) -> dict[str, Any]:
        """Filter parameters of a request for this window (see the module docstring)."""
        out: dict[str, Any] = dict(self.fixed)
        for prefix, rng, unit in (
            ("StartDate", self.start, 1),
            ("UpdateDate", self.update, self.update_unit),
        ):
            # Widened by a whole second at each closed end; in a finer unit the upper bound
            # reaches the last unit of that second (e.g. its 999th millisecond).
            if rng.lo is not None:
                out[f"from{prefix}"] = (rng.lo - 1) * unit
            if rng.hi is not None:
                out[f"to{prefix}"] = (rng.hi + 1) * unit + unit - 1
        if self.premium is not None:
            out["premium"] = self.premium
        return out

    def owns(self, item: ItemMark) -> bool:
        return (
            item.start in self.start
            and item.update in self.update
            and (self.premium is None or item.premium == self.premium)
        )

    def excludes(self, item: ItemMark) -> bool:
        """Whether this window's answer surely leaves `item` out, whatever the bound rule:
        a value outside the request's widened range, or the other premium value.

        An item neither owned nor surely excluded (at a widened boundary second, or without
        a usable value) may or may not be in the answer.
        """
        for value, rng in ((item.start, self.start), (item.update, self.update)):
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            if (rng.lo is not None and value < rng.lo - 1) or (
                rng.hi is not None and value > rng.hi + 1
            ):
                return True
        return (
            self.premium is not None
            and isinstance(item.premium, bool)
            and item.premium != self.premium
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": [self.start.lo, self.start.hi],
            "update": [self.update.lo, self.update.hi],
            "premium": self.premium,
        }
        if self.fixed:
            out["fixed"] = [list(pair) for pair in self.fixed]
        if self.update_unit != 1:
            out["update_unit"] = self.update_unit
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        return cls(
            Range(*data["start"]),
            Range(*data["update"]),
            data.get("premium"),
            fixed=tuple((name, value) for name, value in data.get("fixed", [])),
            update_unit=data.get("update_unit", 1),
        )


@dataclass(frozen=True, slots=True)
class ItemMark:
    """What the scanner keeps of an item: its id and the values the filters look at.

    `key` tells one answer from every other, for counting a window's answers against its
    totalResults: the contentId with the item's numeric `id` (one contentId served under
    two ids is two answers, which the API counts twice), or, for an item without a usable
    contentId (absent, null, not an object at all), a hash of the item, so that two keyless
    items are two answers. `content_id` is "" for those; it orders the rest.
    """

    content_id: str
    start: Any
    update: Any
    premium: Any
    key: str = ""

    @property
    def ident(self) -> str:
        return self.key or self.content_id

    @classmethod
    def of(cls, item: Any, update_field: str = "updateDate", update_unit: int = 1) -> ItemMark:
        """The mark of `item`; its update second is read from `update_field`, which the
        type's update filter looks at (channels: `esUpdateDate`, in milliseconds)."""
        if not isinstance(item, dict):
            return cls("", None, None, None, "sha:" + _digest(item))
        update = item.get(update_field)
        if update_unit != 1 and isinstance(update, int) and not isinstance(update, bool):
            update //= update_unit
        start, premium = item.get("startDate"), item.get("premium")
        content_id = item.get("contentId")
        if not _is_key(content_id):
            return cls("", start, update, premium, "sha:" + _digest(item))
        text = str(content_id)
        numeric = item.get("id")
        key = f"{text}#{numeric}" if _is_key(numeric) else text
        return cls(text, start, update, premium, key)

    def to_json(self) -> list[Any]:
        return [self.content_id, self.start, self.update, self.premium, self.key]


def _is_key(value: Any) -> bool:
    """A contentId or id the scanner can tell items apart by: digits, as text or number."""
    if isinstance(value, str):
        return 0 < len(value) <= 200
    return isinstance(value, int) and not isinstance(value, bool)


def _digest(item: Any) -> str:
    """A stable hash of an item of any shape (an unparsed one hashes its bytes)."""
    raw = getattr(item, "raw", None)
    if not isinstance(raw, bytes):
        try:
            raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        except (orjson.JSONEncodeError, TypeError):
            raw = repr(item).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


@dataclass
class WindowResult:
    """What is known of a window once walked (or planned, for a split one)."""

    window: Window
    total: int
    owned: int = 0
    edge: dict[str, ItemMark] = field(default_factory=dict)
    verified: bool = False
    requests: int = 0
    children: list[Window] | None = None
    #: True for the plan of a split window whose children are not all walked yet.
    is_plan: bool = False

    @property
    def status(self) -> str:
        if self.is_plan:
            return "split"
        return "done" if self.verified else "unverified"


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _ints(values: Iterable[Any]) -> list[int]:
    return sorted(v for v in values if isinstance(v, int) and not isinstance(v, bool))


def split_range(
    rng: Range, sample: Sequence[Any], total: int, target: int = TARGET_WINDOW_ITEMS
) -> list[Range]:
    """Cut `rng` into contiguous, disjoint ranges that together cover exactly `rng`.

    `sample` holds values seen in the range (a probe page); `total` is how many items the
    range holds. Boundaries fall at the sample's quantiles so each piece holds about
    `target` items (at most `MAX_PIECES` pieces: bigger ones are split again), in a gap
    between sampled seconds where there is one (`_gap_cut`); a value the sample shows
    holding more than about half a target (a bulk-import stamp) gets a piece of its own,
    [v - 1, v + 1] where the range allows.
    Returns [rng] when the range cannot be split (a single second).
    """
    if rng.is_single:
        return [rng]
    values = [v for v in _ints(sample) if v in rng]
    if not values:
        return _halve(rng)
    per_sample_item = total / len(values)
    heavy = {v for v, n in Counter(values).items() if n * per_sample_item > target / 2}
    pieces = max(2, min(MAX_PIECES, math.ceil(total / target)))
    cuts: set[int] = set()  # a cut c means: one piece ends at c, the next starts at c + 1
    distinct = sorted(set(values))
    for j in range(1, pieces):
        cuts.add(_gap_cut(distinct, values[min(len(values) - 1, j * len(values) // pieces)]))
    for v in heavy:
        cuts.difference_update(range(v - 1, v + 2))
        # The heavy second's window reaches one second to each side, so that neither
        # neighbour's request (widened by a second, see `Window.params`) takes it in.
        if Range(v - 2, v + 2).lo in rng and Range(v - 2, v + 2).hi in rng:
            cuts.update((v - 2, v + 1))
        else:
            cuts.update((v - 1, v))
    ranges = _cut(rng, sorted(cuts))
    if len(ranges) < 2:
        return _halve(rng)
    return ranges


def _gap_cut(distinct: list[int], value: int) -> int:
    """A cut just after `value`, moved into the gap before the next sampled second when
    that gap is wide enough that neither neighbour's widened boundary second (the cut and
    the one after it) holds a sampled item: then every sampled item is plainly in or out
    of each neighbour's answer, and the children can skip the sample (`api.scan`)."""
    at = bisect.bisect_right(distinct, value)
    if at < len(distinct) and distinct[at] - value >= 3:
        return (value + distinct[at]) // 2
    return value


def _cut(rng: Range, cuts: list[int]) -> list[Range]:
    out: list[Range] = []
    lo = rng.lo
    for c in cuts:
        if (lo is not None and c < lo) or (rng.hi is not None and c >= rng.hi):
            continue
        out.append(Range(lo, c))
        lo = c + 1
    out.append(Range(lo, rng.hi))
    return out


def _halve(rng: Range) -> list[Range]:
    """Split without a sample: at the middle, or at 0 for an open end."""
    if rng.lo is not None and rng.hi is not None:
        mid = (rng.lo + rng.hi) // 2
    elif rng.lo is None and rng.hi is None:
        mid = 0
    elif rng.lo is None:
        assert rng.hi is not None
        mid = min(0, rng.hi - 1)
    else:
        assert rng.lo is not None
        mid = max(0, rng.lo)
    return _cut(rng, [mid])


#: A startDate range this narrow whose sample shows one second only (a bulk import's own
#: window, [v - 1, v + 1]) is split by updateDate at once: cut into single seconds, each
#: neighbour's request (widened by a second) would take in the whole heavy second again.
NARROW_START_SECONDS = 3


def split_window(window: Window, sample: Sequence[ItemMark], total: int) -> list[Window]:
    """Children of an over-full window, by the first dimension that can still be split:
    startDate, then updateDate inside one second (or inside a narrow range whose sample
    holds one second), then premium. [] when none can."""
    if not window.start.is_single and not _one_heavy_second(window, sample):
        ranges = split_range(window.start, [m.start for m in sample], total)
        return [replace(window, start=r) for r in ranges]
    if not window.update.is_single:
        ranges = split_range(window.update, [m.update for m in sample], total)
        return [replace(window, update=r) for r in ranges]
    if window.premium is None:
        return [replace(window, premium=True), replace(window, premium=False)]
    return []


def _one_heavy_second(window: Window, sample: Sequence[ItemMark]) -> bool:
    """Whether `window` is a narrow startDate range whose sample holds a single second, with
    an updateDate range left to split."""
    lo, hi = window.start.lo, window.start.hi
    if lo is None or hi is None or hi - lo + 1 > NARROW_START_SECONDS or window.update.is_single:
        return False
    return len({v for v in _ints(m.start for m in sample) if v in window.start}) == 1


def plan_from_counts(
    counts: Sequence[tuple[int, int]], target: int = TARGET_WINDOW_ITEMS
) -> list[Range]:
    """Windows for a full pass planned from the mirror's own startDate distribution.

    `counts` are (startDate, items) sorted by startDate. Consecutive seconds are packed
    into windows of at most `target` items; the first window is open below and the last
    open above, so no startDate is outside every window. A second holding more than half a
    target (a bulk import) gets a window of its own, [v - 1, v + 1], as `split_range` gives
    it: no neighbour's request (widened by a second) takes it in, and it is split by
    updateDate at once (`split_window`). Heavy seconds that close share one window.
    """
    blocks: list[tuple[int, int]] = []
    for second, n in counts:
        if n > target // 2:
            if blocks and second - 1 <= blocks[-1][1] + 1:
                blocks[-1] = (blocks[-1][0], second + 1)
            else:
                blocks.append((second - 1, second + 1))
    cuts: list[int] = [c for lo, hi in blocks for c in (lo - 1, hi)]
    running, b = 0, 0
    for second, n in counts:
        while b < len(blocks) and second > blocks[b][1]:
            b, running = b + 1, 0  # past a heavy window: the next window starts after it
        if b < len(blocks) and blocks[b][0] <= second:
            continue  # inside a heavy window
        if running and running + n > target:
            cuts.append(second - 1)
            running = 0
        running += n
    return _cut(Range(None, None), sorted(set(cuts)))

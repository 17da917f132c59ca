"""The simulated catalogue: deterministic items for a seed, days of changes, ground truth.

Dates follow what real responses showed (API contract, "Values seen"): startDates over
decades, some 0, some in the year 3001 with an endDate to match, and one second shared by a
bulk import; about 7% UNPUBLISHED; endDates mostly 2100, some past, some near. contentIds are
digit strings of one length that grow with creation time, so a back-catalogue addition has a
new contentId and an old startDate.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator.config import SimulatorConfig
from hotstar_sync.simulator.content import CONTENT_TYPES, NO_END, YEAR_3001, ContentType, Core
from hotstar_sync.simulator.store import BREAKS, Collection, Entry

DAY = 86400
YEAR = 365 * DAY
IST = 19800  # release dates are often midnight in India
#: The second of the bulk import that the cluster of items shares (2017-01-01 UTC).
CLUSTER_SECOND = 1483228800
FIRST_CONTENT_ID = 1_000_000_000
FIRST_ID = 100_000
#: Shares of special values among the initial items.
ZERO_START, FAR_START = 0.004, 0.004
UNPUBLISHED, PAST_END, SOON_END, PREMIUM = 0.07, 0.03, 0.02, 0.4


@dataclass(frozen=True, slots=True)
class DayResult:
    """The contentIds each kind of change touched, and when the changes show."""

    update_date: int
    visible_at: float
    added: list[str] = field(default_factory=list)
    back_catalogue_added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    republished: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TruthItem:
    item: dict[str, Any]  # the raw item exactly as the API returns it
    status: str  # assetStatus
    end_date: int
    malformed: str | None  # why it breaks the contract (an ingest must quarantine it)


@dataclass(frozen=True, slots=True)
class Truth:
    """What the API returns now, for tests and benchmarks to compare a mirror with."""

    items: dict[str, TruthItem]  # by contentId, in contentId order
    removed: set[str]  # contentIds removed silently (no update, just gone)
    pending: int  # changes made but not yet visible (the index lag)
    id_clashes: dict[int, list[str]]  # numeric ids shared by several contentIds


class _Counter:
    """New numeric ids and contentIds of one content type, in creation order."""

    def __init__(self) -> None:
        self.seq = 0
        self.content_id = FIRST_CONTENT_ID

    def next(self, rng: random.Random) -> tuple[int, int]:
        self.seq += 1
        self.content_id += rng.randint(1, 40)
        return self.seq, self.content_id


class Catalog:
    """Every content type's items; thread-safe (the server and the caller share it)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._rng = random.Random(f"items-{config.seed}")
        self._changes = random.Random(f"changes-{config.seed}")
        self._lock = threading.Lock()
        self._counters = {name: _Counter() for name in CONTENT_TYPES}
        self._collections = {
            name: Collection(kind, self._initial(kind), tie_seed=config.effective_fault_seed)
            for name, kind in CONTENT_TYPES.items()
            if name == "movie"  # the only type with a size setting so far
        }

    def collections(self) -> list[Collection]:
        return list(self._collections.values())

    def collection(self, content_type: str = "movie") -> Collection:
        try:
            return self._collections[content_type]
        except KeyError:
            raise ConfigError(f"unknown content type: {content_type}") from None

    def _initial(self, kind: ContentType) -> list[Entry]:
        cfg, rng = self.config, self._rng
        count = cfg.movies
        cluster = min(cfg.cluster_size, count)
        cluster_at = rng.randrange(count - cluster + 1)  # a bulk import: consecutive ids
        cores = []
        for n in range(count):
            seq, content_id = self._counters[kind.name].next(rng)
            start = CLUSTER_SECOND if cluster_at <= n < cluster_at + cluster else _start(rng)
            cores.append(
                Core(
                    seq=seq,
                    id=FIRST_ID + seq,
                    content_id=content_id,
                    start_date=start,
                    end_date=_end(rng, start, cfg.reference_time),
                    update_date=cfg.reference_time - rng.randint(DAY, 6 * YEAR),
                    premium=rng.random() < PREMIUM,
                    published=rng.random() >= UNPUBLISHED,
                )
            )
        picks = rng.sample(range(count), min(count, cfg.malformed + 2 * cfg.duplicate_ids))
        broken = dict(zip(picks[: cfg.malformed], itertools.cycle(BREAKS), strict=False))
        twins = picks[cfg.malformed :]
        for first, second in zip(twins[::2], twins[1::2], strict=True):
            cores[second] = dataclasses.replace(cores[second], id=cores[first].id)
        return [
            Entry.make(kind, kind.make_item(rng, core), broken.get(n))
            for n, core in enumerate(cores)
        ]

    def apply_day(
        self,
        *,
        adds: int = 0,
        back_catalogue_adds: int = 0,
        updates: int = 0,
        unpublish: int = 0,
        republish: int = 0,
        removals: int = 0,
        malformed: int = 0,
        content_type: str = "movie",
    ) -> DayResult:
        """Make a day's changes, stamped updateDate = now; they show after the index lag.

        Each existing item gets at most one change; a count larger than the items that can
        take it is cut to what there is.
        """
        counts = (adds, back_catalogue_adds, updates, unpublish, republish, removals, malformed)
        if min(counts) < 0:
            raise ConfigError("change counts must not be negative")
        # One day at a time: the server's churn and the caller's days share the generator.
        with self._lock:
            coll = self.collection(content_type)
            kind, rng, now = coll.kind, self._changes, int(time.time())
            result = DayResult(now, time.time() + self.config.index_lag_seconds)
            pool = sorted(coll.latest().values(), key=lambda e: e.index["contentId"])
            taken: set[str] = set()

            def take(count: int, fits: Callable[[Entry], bool] = lambda e: True) -> list[Entry]:
                candidates = [e for e in pool if e.content_id not in taken and fits(e)]
                chosen = rng.sample(candidates, min(count, len(candidates)))
                taken.update(e.content_id for e in chosen)
                return chosen

            changes: list[tuple[str, Entry | None]] = []
            for entry in take(updates):
                changes.append((entry.content_id, _updated(rng, entry, now)))
                result.updated.append(entry.content_id)
            for entry in take(unpublish, lambda e: e.index["assetStatus"] == "PUBLISHED"):
                changes.append(
                    (entry.content_id, entry.changed(assetStatus="UNPUBLISHED", updateDate=now))
                )
                result.unpublished.append(entry.content_id)
            for entry in take(republish, lambda e: e.index["assetStatus"] == "UNPUBLISHED"):
                changes.append(
                    (entry.content_id, entry.changed(assetStatus="PUBLISHED", updateDate=now))
                )
                result.republished.append(entry.content_id)
            for entry in take(removals):
                changes.append((entry.content_id, None))
                result.removed.append(entry.content_id)
            healthy = take(malformed, lambda e: e.malformed is None)
            for entry, reason in zip(healthy, itertools.cycle(BREAKS), strict=False):
                changes.append((entry.content_id, entry.corrupt(reason).changed(updateDate=now)))
                result.malformed.append(entry.content_id)
            for count, old, ids in (
                (adds, False, result.added),
                (back_catalogue_adds, True, result.back_catalogue_added),
            ):
                for _ in range(count):
                    entry = self._new_item(kind, now, old)
                    changes.append((entry.content_id, entry))
                    ids.append(entry.content_id)
            coll.stage(changes, result.visible_at)
            return result

    def _new_item(self, kind: ContentType, now: int, old: bool) -> Entry:
        rng = self._changes
        seq, content_id = self._counters[kind.name].next(rng)
        # A back-catalogue film is decades old; a new one was released in the last fortnight.
        start = rng.randint(-20 * YEAR, 40 * YEAR) if old else now - rng.randint(0, 14 * DAY)
        core = Core(
            seq, FIRST_ID + seq, content_id, start, NO_END, now, rng.random() < PREMIUM, True
        )
        return Entry.make(kind, kind.make_item(rng, core))

    def churn(self, count: int, content_type: str = "movie") -> DayResult:
        """Add `count` back-catalogue items and silently remove `count` others (a fault)."""
        return self.apply_day(back_catalogue_adds=count, removals=count, content_type=content_type)

    def truth(self, content_type: str = "movie") -> Truth:
        entries, removed, pending = self.collection(content_type).snapshot()
        return Truth(
            items={
                e.content_id: TruthItem(
                    e.raw, e.index["assetStatus"], e.index["endDate"], e.malformed
                )
                for e in entries
            },
            removed=removed,
            pending=pending,
            id_clashes=_clashes(entries),
        )

    def truth_json(self, content_type: str = "movie") -> bytes:
        """`truth()` as JSON, spliced from each item's cached bytes."""
        entries, removed, pending = self.collection(content_type).snapshot()
        parts = []
        for e in entries:
            meta = orjson.dumps(
                {
                    "contentId": e.content_id,
                    "status": e.index["assetStatus"],
                    "endDate": e.index["endDate"],
                    "malformed": e.malformed,
                }
            )
            parts.append(meta[:-1] + b',"item":' + e.data + b"}")
        tail = orjson.dumps(
            {
                "removed": sorted(removed),
                "pending": pending,
                "id_clashes": {str(k): v for k, v in _clashes(entries).items()},
            },
        )
        head = b'{"type":' + orjson.dumps(content_type) + b',"items":['
        return head + b",".join(parts) + b"]," + tail[1:]


def _clashes(entries: list[Entry]) -> dict[int, list[str]]:
    by_id: defaultdict[int, list[str]] = defaultdict(list)
    for e in entries:
        by_id[e.index["id"]].append(e.content_id)
    return {i: ids for i, ids in by_id.items() if len(ids) > 1}


def _start(rng: random.Random) -> int:
    draw = rng.random()
    if draw < ZERO_START:
        return 0
    if draw < ZERO_START + FAR_START:
        return YEAR_3001
    # Most films are recent; a third reach back to the 1950s.
    start = (
        rng.randint(-20 * YEAR, 30 * YEAR)
        if rng.random() < 0.3
        else rng.randint(30 * YEAR, 56 * YEAR)
    )
    if rng.random() < 0.5:  # a release at midnight in India: many share the second
        start -= (start + IST) % DAY
    return start


def _end(rng: random.Random, start: int, reference: int) -> int:
    if start == YEAR_3001:
        return YEAR_3001
    draw = rng.random()
    if draw < PAST_END:
        return reference - rng.randint(DAY, 3 * YEAR)
    if draw < PAST_END + SOON_END:
        return reference + rng.randint(3600, 30 * DAY)
    return NO_END


def _updated(rng: random.Random, entry: Entry, now: int) -> Entry:
    """An editorial update: a new description, sometimes a move in or out of premium."""
    fields: dict[str, Any] = {
        "updateDate": now,
        "description": f"{entry.raw['description']} Updated {now}.",
    }
    if rng.random() < 0.1:
        premium = not entry.index["premium"]
        fields |= {"premium": premium, "vip": premium, "paid": premium}
    return entry.changed(**fields)

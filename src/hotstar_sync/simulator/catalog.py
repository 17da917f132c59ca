"""The simulated catalogue: each content type's items, days of changes, ground truth.

A type's items are made the first time it is searched or asked about (or all at start,
with `SimulatorConfig.eager`), each from a generator of its own, so a movies-only test does
not pay for 686k episodes and a type's items do not depend on which type came first.
"""

from __future__ import annotations

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
from hotstar_sync.simulator import generate, quirks
from hotstar_sync.simulator.config import SIZES, SimulatorConfig
from hotstar_sync.simulator.content import CONTENT_TYPES, NO_END, ContentType, Core
from hotstar_sync.simulator.episodes import episode_context
from hotstar_sync.simulator.generate import DAY, YEAR
from hotstar_sync.simulator.store import Collection, Entry


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
    #: Items that took another item's numeric id (`Catalog.apply_day`'s `shared_ids`).
    shared_ids: list[str] = field(default_factory=list)
    #: Changes that came with these to other types, by type: a changed show's seasons.
    related: dict[str, DayResult] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TruthItem:
    item: Any  # the raw item exactly as the API returns it (None: bytes no parser accepts)
    status: str  # assetStatus
    end_date: int
    malformed: str | None  # why it breaks the contract (an ingest must quarantine it)


@dataclass(frozen=True, slots=True)
class Truth:
    """What the API returns now, for tests and benchmarks to compare a mirror with."""

    items: dict[str, TruthItem]  # by contentId (a string, whatever the type), in its order
    removed: set[str]  # contentIds removed silently (no update, just gone)
    pending: int  # changes made but not yet visible (the index lag)
    id_clashes: dict[int, list[str]]  # numeric ids shared by several contentIds


class Catalog:
    """Every content type's items; thread-safe (the server and the caller share it)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._changes = random.Random(f"changes-{config.seed}")
        self._lock = threading.RLock()  # making a type's items may first make its parent's
        self._counters: dict[str, generate.Counter] = {}
        self._collections: dict[str, Collection] = {}
        # Episodes added to a season by days of changes, so their numbers follow on.
        self._added_episodes: defaultdict[int, int] = defaultdict(int)
        # Items that took a numeric id another item held first, by type: in the truth's
        # `id_clashes` the first holder comes first (it keeps the id in the mirror).
        self._claimed: defaultdict[str, set[str]] = defaultdict(set)
        if config.eager:
            for name in CONTENT_TYPES:
                self.collection(name)

    def ready(self, content_type: str) -> bool:
        """Whether the type's items are made (the first search of a type makes them)."""
        return content_type in self._collections

    def collection(self, content_type: str = "movie") -> Collection:
        coll = self._collections.get(content_type)
        if coll is not None:
            return coll
        kind = CONTENT_TYPES.get(content_type)
        if kind is None:
            raise ConfigError(f"unknown content type: {content_type}")
        with self._lock:
            if content_type not in self._collections:
                tie_seed = self.config.effective_fault_seed
                self._collections[content_type] = Collection(kind, self._initial(kind), tie_seed)
            return self._collections[content_type]

    def _initial(self, kind: ContentType) -> list[Entry]:
        cfg = self.config
        # Movies keep the generator they had before other types existed: same seed, same movies.
        name = "items" if kind.name == "movie" else f"{kind.name}-items"
        rng = random.Random(f"{name}-{cfg.seed}")
        counter = self._counters[kind.name] = generate.Counter(kind)
        if kind.name == "season":
            shows = [e.raw for e in self._sorted("show")]
            cores = generate.seasons(cfg, rng, counter, shows)
            counts = generate.episode_counts(rng, len(cores), cfg.episodes)
            extra = [{"episodeCnt": n} for n in counts]
            return generate.entries(kind, cfg, rng, cores, extra)
        if kind.name == "episode":
            by_id = {e.index["id"]: e.raw for e in self._sorted("show")}
            families = []
            for season in (e.raw for e in self._sorted("season")):
                show = by_id.get(season["showId"])
                if show is not None:
                    context = episode_context(show, season)
                    families.append((context, season["episodeCnt"], season["startDate"]))
            cores = generate.episodes(cfg, rng, counter, families)
        else:
            cores = generate.flat(cfg, rng, counter, getattr(cfg, SIZES[kind.name]))
        return generate.entries(kind, cfg, rng, cores)

    def _sorted(self, content_type: str) -> list[Entry]:
        """The type's items as they will be once the index catches up, by contentId."""
        return sorted(
            self.collection(content_type).latest().values(), key=lambda e: e.index["contentId"]
        )

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
        shared_ids: int = 0,
        content_type: str = "movie",
    ) -> DayResult:
        """Make a day's changes, stamped updateDate = now; they show after the index lag.

        Each existing item gets at most one change; a count larger than the items that can
        take it is cut to what there is. A show's changes bring its seasons' (`related`).
        `shared_ids` pairs of items meet over one numeric id: the item with the lower
        contentId takes the other's id, the same day the other (the id's owner) is retitled,
        and every other owner unpublished, so that both come in one answer.
        """
        counts = (
            adds,
            back_catalogue_adds,
            updates,
            unpublish,
            republish,
            removals,
            malformed,
            shared_ids,
        )
        if min(counts) < 0:
            raise ConfigError("change counts must not be negative")
        # One day at a time: the server's churn and the caller's days share the generator.
        with self._lock:
            coll = self.collection(content_type)
            kind, rng, now = coll.kind, self._changes, int(time.time())
            lag = self.config.index_lag_seconds + self.config.index_lag_spread_seconds
            result = DayResult(now, time.time() + lag)
            stamp = _stamp(kind, result)
            pool = self._sorted(content_type)
            taken: set[str] = set()

            def take(count: int, fits: Callable[[Entry], bool] = lambda e: True) -> list[Entry]:
                # Odd items (`simulator.quirks`) stay as they are.
                candidates = [
                    e for e in pool if e.content_id not in taken and e.clean is None and fits(e)
                ]
                chosen = rng.sample(candidates, min(count, len(candidates)))
                taken.update(e.content_id for e in chosen)
                return chosen

            changes: list[tuple[Entry, Entry | None]] = []
            for entry in take(updates):
                changes.append((entry, _updated(rng, kind, entry, stamp)))
                result.updated.append(entry.content_id)
            for entry in take(unpublish, lambda e: e.index["assetStatus"] == "PUBLISHED"):
                changes.append((entry, entry.changed(assetStatus="UNPUBLISHED", **stamp)))
                result.unpublished.append(entry.content_id)
            for entry in take(republish, lambda e: e.index["assetStatus"] == "UNPUBLISHED"):
                changes.append((entry, entry.changed(assetStatus="PUBLISHED", **stamp)))
                result.republished.append(entry.content_id)
            for entry in take(removals):
                changes.append((entry, None))
                result.removed.append(entry.content_id)
            healthy = take(malformed, lambda e: e.malformed is None)
            for entry, reason in zip(healthy, itertools.cycle(kind.breaks), strict=False):
                changes.append((entry, entry.corrupt(reason).changed(**stamp)))
                result.malformed.append(entry.content_id)
            pairs = take(2 * shared_ids, lambda e: e.malformed is None)
            for k, (first, second) in enumerate(zip(pairs[::2], pairs[1::2], strict=False)):
                thief, owner = sorted((first, second), key=lambda e: e.index["contentId"])
                retitled = _updated(rng, kind, owner, stamp)
                if k % 2 == 0:
                    retitled = retitled.changed(assetStatus="UNPUBLISHED")
                changes.append((owner, retitled))
                changes.append((thief, thief.changed(id=owner.index["id"], **stamp)))
                self._claimed[content_type].add(thief.content_id)
                result.updated.append(owner.content_id)
                result.shared_ids.append(thief.content_id)
            for count, old, ids in (
                (adds, False, result.added),
                (back_catalogue_adds, True, result.back_catalogue_added),
            ):
                for _ in range(count):
                    new = self._new_item(kind, result, old)
                    if new is not None:
                        changes.append((new, new))
                        ids.append(new.content_id)
            spread = self.config.index_lag_spread_seconds
            coll.stage(
                [(old.content_id, new) for old, new in changes],
                result.visible_at - spread,
                (rng, spread) if spread else None,
            )
            if kind.name == "show":
                self._seasons_follow(changes, result)
            return result

    def _new_item(self, kind: ContentType, day: DayResult, old: bool) -> Entry | None:
        """A new item, or None when its type needs a parent and there is none."""
        rng, now = self._changes, day.update_date
        parent, number = self._new_parent(kind)
        if kind.parent is not None and parent is None:
            return None
        seq, numeric_id, content_id = self._counters[kind.name].next(rng)
        # A back-catalogue title is decades old; a new one was released in the last fortnight.
        start = rng.randint(-20 * YEAR, 40 * YEAR) if old else now - rng.randint(0, 14 * DAY)
        premium = rng.random() < generate.PREMIUM
        core = Core(seq, numeric_id, content_id, start, NO_END, now, premium, True, parent, number)
        return Entry.make(kind, kind.make_item(rng, core) | _stamp(kind, day))

    def _new_parent(self, kind: ContentType) -> tuple[dict[str, Any] | None, int]:
        """The parent context and number of a new item of `kind`: a random show's next
        season, a random season's next episode; (None, 0) for types without parents."""
        if kind.parent is None:
            return None, 0
        parents = list(self.collection(kind.parent).latest().values())
        if not parents:
            return None, 0
        parent = self._changes.choice(parents).raw
        if kind.name == "season":
            seasons = self.collection("season").latest_in("showId", {parent["id"]})
            return parent, 1 + max((e.raw["displaySeasonNo"] for e in seasons), default=0)
        shows = self.collection("show").latest_in("id", {parent["showId"]})
        if not shows:
            return None, 0
        self._added_episodes[parent["id"]] += 1
        number = parent["episodeCnt"] + self._added_episodes[parent["id"]]
        return episode_context(shows[0].raw, parent), number

    def _seasons_follow(self, changes: list[tuple[Entry, Entry | None]], day: DayResult) -> None:
        """A show's change comes with its seasons': an updated show's newest season is
        updated, a new show gets one to three seasons, a removed show's seasons and episodes
        go with it. Types not made yet need nothing: they will be made from the shows."""
        if not self.ready("season"):
            return
        seasons, rng = self.collection("season"), self._changes
        kind, stamp = seasons.kind, _stamp(seasons.kind, day)
        visible_at = day.visible_at + self.config.season_lag_seconds
        related = day.related["season"] = DayResult(day.update_date, visible_at)
        staged: list[tuple[str, Entry | None]] = []
        updated = {new.index["id"] for old, new in changes if new is not None and new is not old}
        newest: dict[int, Entry] = {}
        for season in seasons.latest_in("showId", updated):
            shown = newest.get(season.index["showId"])
            if shown is None or season.index["contentId"] > shown.index["contentId"]:
                newest[season.index["showId"]] = season
        for season in newest.values():
            staged.append((season.content_id, _updated(rng, kind, season, stamp)))
            related.updated.append(season.content_id)
        for old, new in changes:
            if new is old:  # a new show
                show = new.raw
                for number in range(1, rng.randint(1, 3) + 1):
                    seq, numeric_id, content_id = self._counters["season"].next(rng)
                    start, now = show["startDate"], day.update_date
                    core = Core(
                        seq, numeric_id, content_id, start, NO_END, now, False, True, show, number
                    )
                    season = Entry.make(kind, kind.make_item(rng, core) | stamp)
                    staged.append((season.content_id, season))
                    related.added.append(season.content_id)
        gone = {old.index["id"] for old, new in changes if new is None}
        for season in seasons.latest_in("showId", gone):
            staged.append((season.content_id, None))
            related.removed.append(season.content_id)
        seasons.stage(staged, visible_at)
        if gone and self.ready("episode"):
            episodes = self.collection("episode")
            lost = episodes.latest_in("showId", gone)
            episodes.stage([(e.content_id, None) for e in lost], day.visible_at)
            removed = [e.content_id for e in lost]
            day.related["episode"] = DayResult(day.update_date, day.visible_at, removed=removed)

    def churn(self, count: int, content_type: str = "movie") -> DayResult:
        """Add `count` back-catalogue items and silently remove `count` others (a fault)."""
        return self.apply_day(back_catalogue_adds=count, removals=count, content_type=content_type)

    def truth(self, content_type: str = "movie") -> Truth:
        entries, removed, pending = self.collection(content_type).snapshot()
        return Truth(
            items={
                e.content_id: TruthItem(
                    e.raw if e.clean is None else quirks.served(e),
                    e.index["assetStatus"],
                    e.index["endDate"],
                    e.malformed,
                )
                for e in entries
            },
            removed=removed,
            pending=pending,
            id_clashes=_clashes(entries, self._claimed[content_type]),
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
            data = e.data if e.clean is None else orjson.dumps(quirks.served(e))
            parts.append(meta[:-1] + b',"item":' + data + b"}")
        tail = orjson.dumps(
            {
                "removed": sorted(removed),
                "pending": pending,
                "id_clashes": {
                    str(k): v for k, v in _clashes(entries, self._claimed[content_type]).items()
                },
            },
        )
        head = b'{"type":' + orjson.dumps(content_type) + b',"items":['
        return head + b",".join(parts) + b"]," + tail[1:]


def _clashes(entries: list[Entry], claimed: set[str]) -> dict[int, list[str]]:
    """The numeric ids several items share, each with its items: the first holder first,
    then those that `claimed` it later, else in the catalogue's order."""
    by_id: defaultdict[int, list[str]] = defaultdict(list)
    for e in entries:
        by_id[e.index["id"]].append(e.content_id)
    return {i: sorted(ids, key=lambda c: c in claimed) for i, ids in by_id.items() if len(ids) > 1}


def _stamp(kind: ContentType, day: DayResult) -> dict[str, int]:
    """The fields a change sets: updateDate, and when the item reached the index (channels)."""
    stamp = {"updateDate": day.update_date}
    if kind.es_update_date:
        stamp["esUpdateDate"] = int(day.visible_at * 1000)
    return stamp


def _updated(rng: random.Random, kind: ContentType, entry: Entry, stamp: dict[str, int]) -> Entry:
    """An editorial update: new text, sometimes a move in or out of premium."""
    text = entry.raw.get(kind.edit_field)
    fields: dict[str, Any] = stamp | {kind.edit_field: f"{text} Updated {stamp['updateDate']}."}
    if "premium" in entry.index and rng.random() < 0.1:
        premium = not entry.index["premium"]
        fields |= {"premium": premium, "vip": premium, "paid": premium}
    return entry.changed(**fields)

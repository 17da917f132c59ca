"""The initial items of each content type, deterministic for a seed.

Dates follow what real responses showed (API contract, "Values seen"): startDates over
decades, some 0, some in the year 3001 with an endDate to match, and (for movies) one second
shared by a bulk import; about 7% UNPUBLISHED; endDates mostly 2100, some past, some near.
contentIds are digit strings of one length that grow with creation time, so a
back-catalogue addition has a new contentId and an old startDate.

Seasons are made for the shows, episodes for the seasons: a season's showId is an existing
show's `id`, and its episodeCnt is the number of episodes made for it.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hotstar_sync.simulator import quirks
from hotstar_sync.simulator.config import SimulatorConfig
from hotstar_sync.simulator.content import NO_END, YEAR_3001, ContentType, Core
from hotstar_sync.simulator.shows import seasons_of_a_show
from hotstar_sync.simulator.store import Entry

DAY = 86400
YEAR = 365 * DAY
IST = 19800  # release dates are often midnight in India
#: The second of the bulk import that the cluster of movies shares (2017-01-01 UTC).
CLUSTER_SECOND = 1483228800
#: Shares of special values among the initial items.
ZERO_START, FAR_START = 0.004, 0.004
UNPUBLISHED, PAST_END, SOON_END, PREMIUM = 0.07, 0.03, 0.02, 0.4
#: Seasons longer than this air daily (a soap), shorter ones weekly.
DAILY_FROM = 60


class Counter:
    """New numeric ids and contentIds of one content type, in creation order."""

    def __init__(self, kind: ContentType) -> None:
        self.kind = kind
        self.seq = 0
        self.content_id = kind.first_content_id

    def next(self, rng: random.Random) -> tuple[int, int, int]:
        """The next item's creation number, numeric id and contentId."""
        self.seq += 1
        self.content_id += rng.randint(1, self.kind.content_id_step)
        return self.seq, self.kind.first_id + self.seq, self.content_id

    def core(
        self,
        rng: random.Random,
        start: int | Callable[[], int],
        reference: int,
        parent: Mapping[str, Any] | None = None,
        number: int = 0,
    ) -> Core:
        """The next item's core: new ids, then its startDate (`start`, or drawn by it), then
        the status, endDate and last update of an item made before `reference`.

        The draws come in the order movies had them before other types existed, so a
        seed's movies stayed the same.
        """
        seq, numeric_id, content_id = self.next(rng)
        first = start() if callable(start) else start
        return Core(
            seq,
            numeric_id,
            content_id,
            first,
            end_date(rng, first, reference),
            reference - rng.randint(DAY, 6 * YEAR),
            rng.random() < PREMIUM,
            rng.random() >= UNPUBLISHED,
            parent,
            number,
        )


def flat(cfg: SimulatorConfig, rng: random.Random, counter: Counter, count: int) -> list[Core]:
    """Items of a type without parents; movies have the bulk-import clusters: `cluster_size`
    items at CLUSTER_SECOND, then each of `more_clusters` at a second a day later than the
    one before, all of consecutive ids; with `cluster_update_seconds`, each cluster's items
    share that many updateDate seconds."""
    movies = counter.kind.name == "movie"
    sizes = [min(cfg.cluster_size, count) if movies else 0]
    cluster_at = rng.randrange(count - sizes[0] + 1)  # a bulk import: consecutive ids
    for size in cfg.more_clusters if movies else ():
        sizes.append(min(size, count - sum(sizes)))
    ends = list(itertools.accumulate(sizes))
    cores = []
    for n in range(count):
        # Which cluster item n is in (the clusters follow one another from cluster_at).
        offset = (n - cluster_at) % count
        k = next((k for k, end in enumerate(ends) if offset < end), None)
        second = CLUSTER_SECOND + (k or 0) * DAY
        start = (lambda: start_date(rng)) if k is None else (lambda: second)  # noqa: B023
        core = counter.core(rng, start, cfg.reference_time)
        if k is not None and cfg.cluster_update_seconds:
            shared = (offset - (ends[k] - sizes[k])) % cfg.cluster_update_seconds
            core = dataclasses.replace(core, update_date=_cluster_update(cfg, k, shared))
        cores.append(core)
    return cores


def _cluster_update(cfg: SimulatorConfig, cluster: int, shared: int) -> int:
    """The `shared`-th updateDate second of a cluster's items: a month back, an hour apart,
    a day apart from the next cluster's."""
    return cfg.reference_time - 30 * DAY - cluster * DAY - shared * 3600


def seasons(
    cfg: SimulatorConfig, rng: random.Random, counter: Counter, shows: Sequence[Mapping[str, Any]]
) -> list[Core]:
    """Each show's seasons, a year or so apart from the show's startDate on."""
    cores = []
    for show in shows:
        start = show["startDate"]
        for number in range(1, seasons_of_a_show(rng) + 1):
            cores.append(counter.core(rng, start, cfg.reference_time, show, number))
            if start not in (0, YEAR_3001):  # placeholders stay as they are
                start += rng.randint(150, 400) * DAY
    return cores


def episode_counts(rng: random.Random, seasons: int, episodes: int) -> list[int]:
    """`episodes` shared among `seasons`, unevenly (a few soaps run to hundreds)."""
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(seasons)]
    total = sum(weights) or 1.0
    counts = [int(episodes * w / total) for w in weights]
    for i in sorted(range(seasons), key=lambda i: -weights[i])[: episodes - sum(counts)]:
        counts[i] += 1
    return counts


def episodes(
    cfg: SimulatorConfig,
    rng: random.Random,
    counter: Counter,
    seasons: Sequence[tuple[Mapping[str, Any], int, int]],
) -> list[Core]:
    """`count` episodes for each (context, count, season startDate), a day or a week apart."""
    cores = []
    for context, count, start in seasons:
        step = 0 if start in (0, YEAR_3001) else DAY if count > DAILY_FROM else 7 * DAY
        for number in range(1, count + 1):
            day = start + (number - 1) * step
            cores.append(counter.core(rng, day, cfg.reference_time, context, number))
    return cores


def entries(
    kind: ContentType,
    cfg: SimulatorConfig,
    rng: random.Random,
    cores: list[Core],
    extra: Sequence[dict[str, Any]] = (),
) -> list[Entry]:
    """The items of `cores` (each with its `extra` fields, if any), with the configured
    malformed items, shared numeric ids and odd items."""
    count = len(cores)
    picks = rng.sample(range(count), min(count, cfg.malformed + 2 * cfg.duplicate_ids))
    broken = dict(zip(picks[: cfg.malformed], itertools.cycle(kind.breaks), strict=False))
    twins = picks[cfg.malformed :]
    for first, second in zip(twins[::2], twins[1::2], strict=True):
        cores[second] = dataclasses.replace(cores[second], id=cores[first].id)
    items = (kind.make_item(rng, core) for core in cores)
    if extra:
        items = (item | fields for item, fields in zip(items, extra, strict=True))
    made = [Entry.make(kind, item, broken.get(n)) for n, item in enumerate(items)]
    # A generator of their own: odd items leave the ordinary ones as they were.
    return quirks.apply(made, cfg.quirks, random.Random(f"quirks-{kind.name}-{cfg.seed}"))


def start_date(rng: random.Random) -> int:
    draw = rng.random()
    if draw < ZERO_START:
        return 0
    if draw < ZERO_START + FAR_START:
        return YEAR_3001
    # Most titles are recent; a third reach back to the 1950s.
    start = (
        rng.randint(-20 * YEAR, 30 * YEAR)
        if rng.random() < 0.3
        else rng.randint(30 * YEAR, 56 * YEAR)
    )
    if rng.random() < 0.5:  # a release at midnight in India: many share the second
        start -= (start + IST) % DAY
    return start


def end_date(rng: random.Random, start: int, reference: int) -> int:
    if start == YEAR_3001:
        return YEAR_3001
    draw = rng.random()
    if draw < PAST_END:
        return reference - rng.randint(DAY, 3 * YEAR)
    if draw < PAST_END + SOON_END:
        return reference + rng.randint(3600, 30 * DAY)
    return NO_END

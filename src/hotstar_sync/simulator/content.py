"""Content types, each described once: its path, its filters, its orderings, its item maker.

The search machinery (`store.Collection`, `server`) reads only these descriptions, so a new
endpoint of the API guide (shows, seasons, episodes, matches, channels) is one more
`ContentType` with its own item maker; nothing else has to learn about it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotstar_sync.simulator.movies import make_movie

#: endDate meaning "no end" (the year 2100), and the far-future startDate seen in real items
#: (the year 3001), which comes with an endDate to match (API contract, "Values seen").
NO_END = 4102424940
YEAR_3001 = 32535072000


@dataclass(frozen=True, slots=True)
class Core:
    """What the simulator decides about an item; the item maker dresses it in the rest."""

    seq: int  # creation order: drives the numeric `id` and the look of the item
    id: int
    content_id: int
    start_date: int
    end_date: int
    update_date: int
    premium: bool
    published: bool


@dataclass(frozen=True, slots=True)
class RangeFilter:
    """A pair of query parameters bounding one numeric item field."""

    low: str
    high: str
    field: str


@dataclass(frozen=True, slots=True)
class ContentType:
    name: str  # `?type=` on the admin paths
    path: str  # the search path of the API
    make_item: Callable[[random.Random, Core], dict[str, Any]]
    #: `orderBy` value -> the item field it sorts on. The first is the default.
    order_by: dict[str, str] = field(
        default_factory=lambda: {"contentId": "contentId", "startDate": "startDate"}
    )
    ranges: tuple[RangeFilter, ...] = (
        RangeFilter("fromStartDate", "toStartDate", "startDate"),
        RangeFilter("fromUpdateDate", "toUpdateDate", "updateDate"),
    )
    #: Boolean filters (`premium=true|false`); the parameter is named like the item field.
    flags: tuple[str, ...] = ("premium",)


MOVIE = ContentType(name="movie", path="/movie/search", make_item=make_movie)

CONTENT_TYPES: dict[str, ContentType] = {kind.name: kind for kind in (MOVIE,)}

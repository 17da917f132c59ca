"""Content types, each described once: its path, its filters, its orderings, its item maker.

The search machinery (`store.Collection`, `server`) reads only these descriptions; what a
type adds to the contract (a required `showId`, a `live` flag, millisecond update filters)
is a field here, not a branch there.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    #: What the maker needs from the item's parents (a season's show, an episode's season
    #: and show), shared by all siblings; None for a type without parents.
    parent: Mapping[str, Any] | None = None
    number: int = 0  # the place among its siblings: a season's or an episode's number


@dataclass(frozen=True, slots=True)
class RangeFilter:
    """A pair of query parameters bounding one numeric item field."""

    low: str
    high: str
    field: str
    unit: str = "epoch seconds"


#: The ways an item stays broken for good: its reason -> (field, value).
BREAKS: dict[str, tuple[str, Any]] = {
    "title is null": ("title", None),
    "year is not a number": ("year", "nineteen ninety"),
    "duration is a string": ("duration", "2h 10m"),
    "genre is not a list": ("genre", {"name": "Drama"}),
    "premium is not a boolean": ("premium", "yes"),
    "name is null": ("name", None),
}
_MEDIA_BREAKS = tuple(BREAKS)[:5]

START = RangeFilter("fromStartDate", "toStartDate", "startDate")
UPDATE = RangeFilter("fromUpdateDate", "toUpdateDate", "updateDate")


@dataclass(frozen=True, slots=True)
class ContentType:
    name: str  # `?type=` on the admin paths
    path: str  # the search path of the API
    make_item: Callable[[random.Random, Core], dict[str, Any]]
    #: Numeric ids and contentIds of the first item; each later contentId is 1 to
    #: `content_id_step` higher, so contentIds grow with creation time.
    first_id: int
    first_content_id: int
    content_id_step: int = 40
    parent: str | None = None  # the type whose items this type's items belong to
    #: `orderBy` value -> the item field it sorts on. The first is the default.
    order_by: Mapping[str, str] = field(
        default_factory=lambda: {"contentId": "contentId", "startDate": "startDate"}
    )
    ranges: tuple[RangeFilter, ...] = (START, UPDATE)
    #: Boolean filters (`premium=true|false`); the parameter is named like the item field.
    flags: tuple[str, ...] = ("premium",)
    #: Integer equality filters (`showId=...`), named like the item field; indexed.
    ids: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # parameters without which a search is a 400
    breaks: tuple[str, ...] = _MEDIA_BREAKS  # the BREAKS its items can suffer
    edit_field: str = "description"  # the text an editorial update rewrites
    #: The item carries `esUpdateDate` (epoch ms): when its change reached the index.
    es_update_date: bool = False


def _content_types() -> dict[str, ContentType]:
    # Imported here: the item makers need `Core`, defined above.
    from hotstar_sync.simulator.channels import make_channel
    from hotstar_sync.simulator.episodes import make_episode
    from hotstar_sync.simulator.matches import make_match
    from hotstar_sync.simulator.movies import make_movie
    from hotstar_sync.simulator.shows import make_season, make_show

    kinds = (
        ContentType("movie", "/movie/search", make_movie, 100_000, 1_000_000_000),
        ContentType(
            "show",
            "/show/search",
            make_show,
            200_000,
            1_200_000_000,
            breaks=("title is null", "genre is not a list", "premium is not a boolean"),
        ),
        ContentType(
            "season",
            "/season/search",
            make_season,
            300_000,
            1_300_000_000,
            parent="show",
            flags=(),
            ids=("showId",),
            required=("showId",),
            breaks=("title is null",),
            edit_field="title",
        ),
        ContentType(
            "episode",
            "/episode/search",
            make_episode,
            1_000_000,
            1_400_000_000,
            parent="season",
            ids=("showId",),
        ),
        ContentType(
            "match",
            "/match/search",
            make_match,
            3_000_000,
            1_600_000_000,
            flags=("premium", "live"),
        ),
        ContentType(
            "channel",
            "/channel/list",
            make_channel,
            0,
            # Channel n has contentId 1100000000 + n, as the movies' channelObjects say.
            1_100_000_000,
            content_id_step=1,
            order_by={"esUpdateDate": "esUpdateDate", "contentId": "contentId"},
            ranges=(
                START,
                RangeFilter("fromUpdateDate", "toUpdateDate", "esUpdateDate", "epoch ms"),
            ),
            flags=(),
            breaks=("name is null",),
            edit_field="name",
            es_update_date=True,
        ),
    )
    return {kind.name: kind for kind in kinds}


CONTENT_TYPES: dict[str, ContentType] = _content_types()

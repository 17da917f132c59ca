"""Content types of the partner API, each described once: pure data, no I/O.

A `ContentType` says where its items come from (the search path and the filters that path
takes), where they go (the mirror table) and how an item's fields map onto that table's
columns. The validator builds its typed model from this description and the writer builds
its SQL from it, so shows, seasons, episodes, matches and channels (API guide, "Search
endpoints") become more descriptions, not more code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: How a column is typed. `int` is PostgreSQL INTEGER and `bigint` BIGINT: the validator
#: checks each value's range so that one absurd number cannot fail a whole page's COPY.
#: "digits": a key stored as text that the API sends as a digit string, or as a number
#: (a show's contentId: API contract) which is stored as its digits.
ColumnKind = Literal["text", "digits", "int", "bigint", "bool", "jsonb"]

#: The JSON shape a `jsonb` column holds.
JsonShape = Literal["array", "object"]

#: Fixed query parameters, as (name, value) pairs: hashable, so a window can carry them.
Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Column:
    """One API field stored in a column of its own (the raw item is kept whole as well)."""

    field: str  # the API's name, e.g. "broadCastDate"
    column: str  # the mirror's name, e.g. "broadcast_date"
    kind: ColumnKind
    required: bool = False  # absent or null -> the item is quarantined
    max_length: int | None = None  # VARCHAR(n)
    pattern: str | None = None  # a regular expression a text value must match
    shape: JsonShape | None = None  # for jsonb columns

    def __post_init__(self) -> None:
        if (self.kind == "jsonb") != (self.shape is not None):
            raise ValueError(f"{self.field}: a jsonb column needs a shape, no other kind has one")


@dataclass(frozen=True, slots=True)
class ContentType:
    """Everything the pipeline needs to know about one kind of item."""

    name: str  # "movie": in the sync log, the change log and the quarantine
    path: str  # the API's search path
    table: str  # the mirror table
    columns: tuple[Column, ...]
    id_field: str = "contentId"  # the item's key; its column is the table's ON CONFLICT key
    #: Further API fields whose columns are UNIQUE: an item that reuses another item's value
    #: is quarantined instead of failing its page (movies: the numeric `id`).
    unique_fields: tuple[str, ...] = ("id",)
    #: Query parameters the search path accepts besides paging and ordering.
    filters: frozenset[str] = frozenset(
        {"fromStartDate", "toStartDate", "fromUpdateDate", "toUpdateDate", "premium"}
    )
    order_by: tuple[str, ...] = ("contentId", "startDate")
    #: Fields that decide soft deletion (design, "Incremental sync"); None: the type has none.
    status_field: str | None = "assetStatus"
    end_field: str | None = "endDate"
    #: The `orderBy` of a scan: a stable order (channels: their list orders by esUpdateDate).
    order_field: str = "contentId"
    #: The field `fromUpdateDate`/`toUpdateDate` filter on, and its unit per second
    #: (channels: `esUpdateDate`, epoch milliseconds).
    update_field: str = "updateDate"
    update_unit: int = 1
    #: Disjoint filter sets whose union is the whole catalogue; each is enumerated
    #: completely (matches: `live=true` and `live=false`). `((),)`: the type is one part.
    partitions: tuple[Params, ...] = ((),)
    #: A type searched per parent (seasons: `showId` required): the parent type's name, the
    #: query parameter, and the parent's field whose value it takes (the show's numeric id).
    parent: str | None = None
    parent_param: str | None = None
    parent_field: str = "id"
    #: The item field naming its parent (a season's `showId`): per-parent deletion detection.
    parent_ref: str | None = None
    #: Whether a count probe applies: a type searched per parent has no catalogue-wide count.
    probe: bool = True
    by_field: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_field = {column.field: column for column in self.columns}
        if len(by_field) != len(self.columns):
            raise ValueError(f"{self.name}: a field is mapped twice")
        for name in (self.id_field, *self.unique_fields):
            if name not in by_field or not by_field[name].required:
                raise ValueError(f"{self.name}: key field {name} must be a required column")
        if (self.parent is None) != (self.parent_param is None) or (
            self.parent_ref is not None and self.parent_ref not in by_field
        ):
            raise ValueError(f"{self.name}: a parent needs its parameter and a mapped reference")
        object.__setattr__(self, "by_field", by_field)

    @property
    def id_column(self) -> str:
        return self.by_field[self.id_field].column

    @property
    def scalar_columns(self) -> tuple[Column, ...]:
        """Columns whose typed value the validator hands to the writer."""
        return tuple(c for c in self.columns if c.kind != "jsonb")

    @property
    def json_columns(self) -> tuple[Column, ...]:
        """Columns the writer takes from the stored raw item in SQL (`raw -> field`), so
        their JSON is serialised once, with the raw item, not once more per column."""
        return tuple(c for c in self.columns if c.kind == "jsonb")


def _text(field: str, column: str, max_length: int | None = None) -> Column:
    return Column(field, column, "text", max_length=max_length)


def _array(field: str, column: str) -> Column:
    return Column(field, column, "jsonb", shape="array")


def _media(*, duration: bool = True, numeric_id: bool = False) -> tuple[Column, ...]:
    """The fields movies, shows, episodes and matches share (API contract: "other types
    share most fields"), in the seed's hotstar_movies mapping."""
    return (
        Column("id", "hotstar_id", "bigint", required=True),
        _content_id("digits" if numeric_id else "text"),
        Column("title", "title", "text", required=True, max_length=500),
        _text("description", "description"),
        _text("contentType", "content_type", 50),
        Column("year", "year", "int"),
        *((Column("duration", "duration", "int"),) if duration else ()),
        _array("genre", "genre"),
        _array("lang", "lang"),
        _array("langObjs", "lang_objs"),
        Column("premium", "premium", "bool"),
        Column("vip", "vip", "bool"),
        Column("paid", "paid", "bool"),
        _text("assetStatus", "asset_status", 50),
        Column("startDate", "start_date", "bigint"),
        Column("endDate", "end_date", "bigint"),
        Column("broadCastDate", "broadcast_date", "bigint"),
        _text("thumbnail", "thumbnail"),
        _text("portraitThumbnail", "portrait_thumbnail"),
        _array("images", "images"),
        _array("sourceImages", "source_images"),
        _text("deepLinkUrl", "deep_link_url"),
        _text("deepLinkUrlForLivingRoom", "deep_link_url_living_room"),
        _text("playUri", "play_uri"),
        _array("locators", "locators"),
        _array("actors", "actors"),
        _array("directors", "directors"),
        _array("producers", "producers"),
        _array("anchors", "anchors"),
        _array("searchKeywords", "search_keywords"),
        _array("trailers", "trailers"),
        _array("trailerDeeplinks", "trailer_deep_links"),
        Column("parentalRating", "parental_rating", "int"),
        _text("parentalRatingName", "parental_rating_name", 50),
        Column("channelObject", "channel_object", "jsonb", shape="object"),
        Column("updateDate", "api_update_date", "bigint"),
    )


def _dates() -> tuple[Column, ...]:
    """Status and dates: every type carries them, and deletion is decided on them."""
    return (
        _text("assetStatus", "asset_status", 50),
        Column("startDate", "start_date", "bigint"),
        Column("endDate", "end_date", "bigint"),
        Column("updateDate", "api_update_date", "bigint"),
    )


def _content_id(kind: ColumnKind = "text") -> Column:
    # A digit string (for shows a JSON number, stored as its digits); VARCHAR(50).
    return Column("contentId", "content_id", kind, required=True, max_length=50, pattern=r"^\d+$")


#: The seed's hotstar_movies columns and its save_movie field mapping.
MOVIE = ContentType(name="movie", path="/movie/search", table="hotstar_movies", columns=_media())

SHOW = ContentType(
    name="show",
    path="/show/search",
    table="hotstar_shows",
    # A show's running time is its episodes'; its contentId is a number (API contract).
    columns=_media(duration=False, numeric_id=True),
)

#: Seasons are asked for per show (`showId`, the show's numeric `id`: API contract).
SEASON = ContentType(
    name="season",
    path="/season/search",
    table="hotstar_seasons",
    columns=(
        Column("id", "hotstar_id", "bigint", required=True),
        _content_id(),
        Column("showId", "show_id", "bigint", required=True),
        Column("displaySeasonNo", "display_season_no", "int"),
        Column("episodeCnt", "episode_cnt", "int"),
        Column("title", "title", "text", required=True, max_length=500),
        Column("channelId", "channel_id", "bigint"),
        Column("categoryId", "category_id", "bigint"),
        _array("images", "images"),
        _text("thumbnail", "thumbnail"),
        *_dates(),
    ),
    filters=frozenset({"fromStartDate", "toStartDate", "fromUpdateDate", "toUpdateDate"}),
    parent="show",
    parent_param="showId",
    parent_ref="showId",
    probe=False,
)

EPISODE = ContentType(
    name="episode",
    path="/episode/search",
    table="hotstar_episodes",
    columns=(
        *_media(),
        Column("episodeNo", "episode_no", "int"),
        Column("seasonNo", "season_no", "int"),
        Column("seasonId", "season_id", "bigint"),
        Column("showId", "show_id", "bigint"),
    ),
)

MATCH = ContentType(
    name="match",
    path="/match/search",
    table="hotstar_matches",
    columns=(
        *_media(),
        Column("sportsSeasonId", "sports_season_id", "bigint"),
        Column("tournamentId", "tournament_id", "bigint"),
        Column("siMatchId", "si_match_id", "bigint"),
        _text("gameName", "game_name", 100),
        Column("live", "live", "bool"),
    ),
    # Sports VoD and live clips are two lists (API contract: `live=true|false`).
    partitions=((("live", True),), (("live", False),)),
)

CHANNEL = ContentType(
    name="channel",
    path="/channel/list",
    table="hotstar_channels",
    columns=(
        Column("id", "hotstar_id", "bigint", required=True),
        _content_id(),
        Column("name", "name", "text", required=True, max_length=500),
        _array("enabledPlatforms", "enabled_platforms"),
        *_dates(),
        Column("esUpdateDate", "es_update_date", "bigint"),
    ),
    filters=frozenset({"fromStartDate", "toStartDate", "fromUpdateDate", "toUpdateDate"}),
    order_by=("esUpdateDate", "contentId"),
    order_field="esUpdateDate",
    update_field="esUpdateDate",
    update_unit=1000,
)

#: Every type, parents before the types searched per parent.
CONTENT_TYPES: dict[str, ContentType] = {
    kind.name: kind for kind in (MOVIE, SHOW, SEASON, EPISODE, MATCH, CHANNEL)
}

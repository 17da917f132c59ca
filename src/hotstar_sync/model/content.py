"""Content types of the partner API, each described once: pure data, no I/O.

A `ContentType` says where its items come from (the search path and the filters that path
takes), where they go (the mirror table) and how an item's fields map onto that table's
columns. The validator builds its typed model from this description and the writer builds
its SQL from it, so shows, seasons, episodes, matches and channels (API guide, "Search
endpoints") become more descriptions, not more code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: How a column is typed. `int` is PostgreSQL INTEGER and `bigint` BIGINT: the validator
#: checks each value's range so that one absurd number cannot fail a whole page's COPY.
ColumnKind = Literal["text", "int", "bigint", "bool", "jsonb"]

#: The JSON shape a `jsonb` column holds.
JsonShape = Literal["array", "object"]


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
    by_field: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_field = {column.field: column for column in self.columns}
        if len(by_field) != len(self.columns):
            raise ValueError(f"{self.name}: a field is mapped twice")
        for name in (self.id_field, *self.unique_fields):
            if name not in by_field or not by_field[name].required:
                raise ValueError(f"{self.name}: key field {name} must be a required column")
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


#: The seed's hotstar_movies columns and its save_movie field mapping.
MOVIE = ContentType(
    name="movie",
    path="/movie/search",
    table="hotstar_movies",
    columns=(
        Column("id", "hotstar_id", "bigint", required=True),
        # A digit string for movies (API contract, "Movie item"); VARCHAR(50).
        Column("contentId", "content_id", "text", required=True, max_length=50, pattern=r"^\d+$"),
        Column("title", "title", "text", required=True, max_length=500),
        _text("description", "description"),
        _text("contentType", "content_type", 50),
        Column("year", "year", "int"),
        Column("duration", "duration", "int"),
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
    ),
)

CONTENT_TYPES: dict[str, ContentType] = {kind.name: kind for kind in (MOVIE,)}

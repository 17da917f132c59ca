"""Validation: API items -> writer rows or quarantine rejects. Pure, no I/O."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotstar_sync.model import MOVIE, Column, ContentType
from hotstar_sync.model.validate import Reject, content_hash, prepare, row_columns

NOW = 1_700_000_000
NO_END = 4102424940
COLUMNS = row_columns(MOVIE)


def movie(**fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 100001,
        "contentId": "1000000001",
        "title": "Monsoon Letter",
        "description": "A letter arrives with the rain.",
        "contentType": "MOVIE",
        "year": 2019,
        "duration": 7200,
        "genre": ["Drama"],
        "lang": ["Hindi"],
        "langObjs": [{"id": 1, "name": "Hindi", "iso3code": "hin"}],
        "premium": False,
        "vip": False,
        "paid": False,
        "assetStatus": "PUBLISHED",
        "startDate": 1_560_000_000,
        "endDate": NO_END,
        "broadCastDate": 1_560_000_000,
        "updateDate": 1_600_000_000,
        "channelObject": {"id": 3, "name": "Channel 3", "contentId": "1100000003"},
    }
    item.update(fields)
    return item


def one_row(item: Any, now: float = NOW) -> dict[str, Any]:
    rows, rejects = prepare(MOVIE, [item], now)
    assert rejects == [], rejects
    return dict(zip(COLUMNS, rows[0], strict=True))


def one_reject(item: Any) -> Reject:
    rows, rejects = prepare(MOVIE, [item], NOW)
    assert rows == []
    return rejects[0]


def test_a_good_item_becomes_a_row_of_typed_values_and_its_whole_raw_item() -> None:
    item = movie(badges=[{"type": "NEW"}])  # a field the contract does not list is kept
    row = one_row(item)
    assert row["hotstar_id"] == 100001
    assert row["content_id"] == "1000000001"
    assert row["title"] == "Monsoon Letter"
    assert row["year"] == 2019
    assert row["premium"] is False
    assert row["api_update_date"] == 1_600_000_000
    assert row["deleted_reason"] is None
    assert orjson.loads(row["raw_response"]) == item
    assert row["content_hash"] == content_hash(row["raw_response"].encode())
    # JSON columns are not in the row: the writer takes them from the raw item.
    assert "genre" not in row and "channel_object" not in row


def test_absent_optional_fields_are_none() -> None:
    item = movie()
    for name in ("description", "year", "premium", "endDate", "channelObject"):
        del item[name]
    row = one_row(item)
    assert (row["description"], row["year"], row["premium"], row["end_date"]) == (None,) * 4


def test_a_numeric_string_year_is_read_as_a_number() -> None:
    assert one_row(movie(year="2019"))["year"] == 2019


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": None}, "title: Input should be a valid string"),
        ({"title": 42}, "title: Input should be a valid string"),
        ({"title": ""}, "title: String should have at least 1 character"),
        ({"title": "x" * 501}, "title: String should have at most 500 characters"),
        ({"year": "abc"}, "year: Input should be a valid integer, unable to parse string"),
        ({"year": 19.5}, "year: Input should be a valid integer, got a number with a fractional"),
        ({"year": 2**31}, "year: Input should be less than or equal to 2147483647"),
        ({"id": 2**63}, "id: Input should be less than or equal to 9223372036854775807"),
        ({"duration": "2h 10m"}, "duration: Input should be a valid integer"),
        ({"premium": "yes"}, "premium: Input should be a valid boolean"),
        ({"premium": 1}, "premium: Input should be a valid boolean"),
        ({"genre": {"name": "Drama"}}, "genre: Input should be a valid list"),
        ({"channelObject": ["x"]}, "channelObject: Input should be a valid dictionary"),
        ({"contentId": "12a"}, "contentId: String should match pattern"),
        ({"contentId": 12}, "contentId: Input should be a valid string"),
        ({"assetStatus": "P" * 51}, "assetStatus: String should have at most 50 characters"),
    ],
)
def test_a_bad_field_rejects_the_item_with_a_reason_naming_it(
    fields: dict[str, Any], reason: str
) -> None:
    reject = one_reject(movie(**fields))
    assert reject.reason.startswith(reason), reject.reason
    assert "\n" not in reject.reason


def test_the_reason_names_every_bad_field_and_the_key_is_the_content_id() -> None:
    reject = one_reject(movie(title=None, year="abc"))
    assert reject.reason.startswith("title: Input should be a valid string; year: ")
    assert reject.item_key == "1000000001"
    assert orjson.loads(reject.raw)["title"] is None


def test_missing_required_fields_are_named() -> None:
    item = movie()
    del item["id"], item["title"]
    assert one_reject(item).reason == "id: Field required; title: Field required"


def test_an_item_without_a_usable_content_id_is_keyed_by_its_hash() -> None:
    reject = one_reject(movie(contentId=None))
    assert reject.item_key.startswith("sha:")
    assert one_reject(movie(contentId=None)).item_key == reject.item_key


def test_an_item_that_is_not_an_object_is_rejected() -> None:
    reject = one_reject(["not", "an", "item"])
    assert reject.reason == "item: Input should be a valid dictionary"
    assert orjson.loads(reject.raw) == ["not", "an", "item"]


def test_a_nul_character_is_rejected_and_its_raw_item_stays_storable() -> None:
    reject = one_reject(movie(description="bad\x00byte"))
    assert "NUL" in reject.reason
    assert b"\\u0000" not in reject.raw
    # An escaped backslash before "u0000" is not a NUL: that item is fine.
    assert one_row(movie(description="\\u0000"))["description"] == "\\u0000"


def test_an_integer_beyond_64_bits_in_an_unmapped_field_is_rejected() -> None:
    reject = one_reject(movie(extra=2**70))
    assert reject.reason.startswith("item: cannot be stored as JSON")
    assert orjson.loads(reject.raw)  # stored as text, still JSON


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        ({"assetStatus": "UNPUBLISHED"}, "unpublished"),
        ({"endDate": NOW - 1}, "expired"),
        ({"endDate": NOW}, None),
        ({"endDate": 0}, None),  # "not set", like startDate 0
        ({"endDate": None}, None),
        ({"assetStatus": "UNPUBLISHED", "endDate": NOW - 1}, "unpublished"),
    ],
)
def test_the_deletion_state(fields: dict[str, Any], reason: str | None) -> None:
    assert one_row(movie(**fields))["deleted_reason"] == reason


def test_every_item_is_either_a_row_or_a_reject_in_order() -> None:
    items = [movie(contentId=str(n), id=n, title=None if n % 3 == 0 else "T") for n in range(9)]
    rows, rejects = prepare(MOVIE, items, NOW)
    assert [row[1] for row in rows] == ["1", "2", "4", "5", "7", "8"]
    assert [r.item_key for r in rejects] == ["0", "3", "6"]


@given(seed=st.integers(0, 2**32))
def test_the_hash_does_not_depend_on_key_order(seed: int) -> None:
    item = movie(langObjs=[{"id": 1, "name": "Hindi", "iso3code": "hin"}])
    keys = list(item)
    random.Random(seed).shuffle(keys)
    shuffled = {key: item[key] for key in keys}
    shuffled["langObjs"] = [dict(reversed(list(item["langObjs"][0].items())))]
    assert one_row(shuffled)["content_hash"] == one_row(item)["content_hash"]


def test_any_change_of_the_item_changes_the_hash() -> None:
    base = one_row(movie())["content_hash"]
    assert one_row(movie(updateDate=1_600_000_001))["content_hash"] != base
    assert one_row(movie(badges=[]))["content_hash"] != base


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


# The machine may be busy: generation speed is not what this test is about.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(st.sampled_from([*movie(), "extra"]), JSON, max_size=6))
def test_any_item_is_a_row_or_a_reject_never_an_exception(fields: dict[str, Any]) -> None:
    item = movie(**fields)
    rows, rejects = prepare(MOVIE, [item], NOW)
    assert len(rows) + len(rejects) == 1
    for reject in rejects:
        assert reject.reason and "\n" not in reject.reason
        orjson.loads(reject.raw)
        assert b"\\u0000" not in reject.raw
    for row in rows:
        assert len(row) == len(COLUMNS)
        assert orjson.loads(row[-3]) == orjson.loads(orjson.dumps(item))


@given(
    year=st.integers(-(2**31), 2**31 - 1) | st.none(),
    title=st.text(min_size=1, max_size=500).filter(lambda t: "\x00" not in t),
    hotstar_id=st.integers(-(2**63), 2**63 - 1),
    content_id=st.from_regex(r"\A[0-9]{1,50}\Z"),
)
def test_valid_values_are_kept_exactly(
    year: int | None, title: str, hotstar_id: int, content_id: str
) -> None:
    row = one_row(movie(year=year, title=title, id=hotstar_id, contentId=content_id))
    assert (row["year"], row["title"], row["hotstar_id"], row["content_id"]) == (
        year,
        title,
        hotstar_id,
        content_id,
    )


def test_a_content_type_description_is_checked() -> None:
    with pytest.raises(ValueError, match="needs a shape"):
        Column("genre", "genre", "jsonb")
    with pytest.raises(ValueError, match="must be a required column"):
        ContentType("x", "/x/search", "x", (Column("contentId", "content_id", "text"),))
    assert MOVIE.id_column == "content_id"
    assert {c.column for c in MOVIE.json_columns} >= {"genre", "lang_objs", "channel_object"}


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_content_id_served_under_two_ids_keeps_the_lower_whichever_comes_first(
    order: tuple[int, int],
) -> None:
    twins = [movie(id=7, title="The original"), movie(id=900, title="Twin of 7")]
    rows, rejects = prepare(MOVIE, [twins[i] for i in order], NOW)
    (row,) = rows
    assert orjson.loads(row[row_columns(MOVIE).index("raw_response")]) == twins[0]
    (reject,) = rejects
    assert reject.item_key == f"{twins[1]['contentId']}#id=900"
    assert reject.reason.endswith("(ids 7 and 900); the lower id is kept")

"""The pure parts of the other content types: their descriptions, windows with fixed
parameters and millisecond update filters, and a scan over partitions."""

from __future__ import annotations

from typing import Any

from hotstar_sync.api.client import SearchPage
from hotstar_sync.api.scan import Scanner
from hotstar_sync.model.content import CHANNEL, CONTENT_TYPES, MATCH, SEASON, SHOW
from hotstar_sync.model.windows import ItemMark, Range, Window


def test_every_type_is_described_once_parents_first():
    assert list(CONTENT_TYPES) == ["movie", "show", "season", "episode", "match", "channel"]
    assert (
        SHOW.by_field["contentId"].kind == "digits" and SEASON.parent == "show" and not SEASON.probe
    )
    assert MATCH.partitions == ((("live", True),), (("live", False),))
    assert (CHANNEL.order_field, CHANNEL.update_field, CHANNEL.update_unit) == (
        "esUpdateDate",
        "esUpdateDate",
        1000,
    )
    assert len({kind.table for kind in CONTENT_TYPES.values()}) == len(CONTENT_TYPES)


def test_a_millisecond_update_filter_covers_every_millisecond_of_the_widened_seconds():
    window = Window(update=Range(100, 200), update_unit=1000)
    assert window.params() == {"fromUpdateDate": 99_000, "toUpdateDate": 201_999}
    # Seconds stay seconds for every other type, and startDate is always in seconds.
    assert Window(start=Range(5, 6), update=Range(100, 200)).params() == {
        "fromStartDate": 4,
        "toStartDate": 7,
        "fromUpdateDate": 99,
        "toUpdateDate": 201,
    }


def test_fixed_parameters_are_sent_keyed_and_kept_in_checkpoints():
    window = Window(fixed=(("showId", 200_033),), update_unit=1000)
    assert window.params() == {"showId": 200_033}
    assert window.key == "start=..;update=..;premium=;showId=200033"
    assert Window(fixed=(("live", True),)).key.endswith(";live=true")
    assert Window().key == "start=..;update=..;premium="  # old checkpoints keep their keys
    assert Window.from_json(window.to_json()) == window


def test_a_channel_mark_reads_its_update_second_from_es_update_date():
    item = {"contentId": "1100000001", "updateDate": 10, "esUpdateDate": 20_500}
    assert ItemMark.of(item, "esUpdateDate", 1000).update == 20
    assert ItemMark.of({"contentId": 1200000001}).content_id == "1200000001"


def _page(items: list[dict[str, Any]]) -> SearchPage:
    return SearchPage(items=items, total_results=len(items), offset=0, size=1000)


def test_a_scan_over_partitions_asks_each_with_its_parameters_and_sums_them():
    asked: list[dict[str, Any]] = []
    lists = {True: [{"contentId": "1"}], False: [{"contentId": "2"}, {"contentId": "3"}]}

    def fetch(params: dict[str, Any]) -> SearchPage:
        asked.append(params)
        return _page(lists[params["live"]])

    scanner = Scanner(fetch, partitions=MATCH.partitions, order_by="contentId")
    pages = list(scanner.scan())
    assert [p["live"] for p in asked] == [True, False]
    assert sum(len(p.items) for p in pages) == 3
    assert scanner.result.verified and scanner.result.total == 3


def test_a_shows_numeric_content_id_is_stored_as_its_digits_and_kept_as_a_number():
    import orjson

    from hotstar_sync.model.content import MOVIE
    from hotstar_sync.model.validate import prepare, row_columns

    item = {"id": 7, "contentId": 1260012345, "title": "A show", "startDate": 0}
    (row,), rejects = prepare(SHOW, [item], now=0)
    values = dict(zip(row_columns(SHOW), row, strict=True))
    assert not rejects and values["content_id"] == "1260012345"
    assert orjson.loads(values["raw_response"])["contentId"] == 1260012345
    for bad in (True, -5, "12a"):
        assert prepare(SHOW, [{**item, "contentId": bad}], now=0)[0] == []
    # A movie's contentId is a digit string by contract: a number is quarantined.
    assert prepare(MOVIE, [item], now=0)[0] == []

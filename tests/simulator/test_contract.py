"""The API contract, rule by rule, over real HTTP."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from hotstar_sync.api.token import make_token
from hotstar_sync.simulator import RunningSimulator
from tests.simulator.conftest import Api


def test_the_envelope_has_every_field(api: Api) -> None:
    response = api.get(size=7, offset=14)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["statusCode"] == "OK" and body["statusCodeValue"] == 200
    results = body["body"]["results"]
    assert results["totalResults"] == 3000
    assert (results["offset"], results["size"], results["totalPageResults"]) == (14, 7, 7)
    assert results["totalPages"] == math.ceil(3000 / 7)
    assert "offset=21" in results["nextOffsetURL"]
    assert len(results["items"]) == 7


def test_the_last_page_has_no_next_url(api: Api) -> None:
    results = api.results(offset=2990, size=10)
    assert results["totalPageResults"] == 10 and results["nextOffsetURL"] is None


@pytest.mark.parametrize("header", ["x-country-code", "x-platform-code", "x-region-code"])
def test_a_missing_mandatory_header_is_a_400(api: Api, header: str) -> None:
    saved = api.headers[header]
    api.headers[header] = None  # type: ignore[assignment]
    try:
        response = api.get()
    finally:
        api.headers[header] = saved
    assert response.status_code == 400
    assert header in response.json()["message"]


def test_x_client_code_is_optional(api: Api) -> None:
    api.headers["x-client-code"] = None  # type: ignore[assignment]
    try:
        assert api.get().status_code == 200
    finally:
        api.headers["x-client-code"] = "pt"


def test_the_partner_is_needed_in_the_query_and_in_a_header(api: Api) -> None:
    assert api.get(partner=None).status_code == 400
    api.headers["x-partner-name"] = None  # type: ignore[assignment]
    try:
        assert api.get().status_code == 400
    finally:
        api.headers["x-partner-name"] = api.partner


def test_a_wrong_partner_is_a_403(api: Api) -> None:
    assert api.get(partner="someone-else").status_code == 403
    api.headers["x-partner-name"] = "someone-else"
    try:
        response = api.get()
    finally:
        api.headers["x-partner-name"] = api.partner
    assert response.status_code == 403
    assert response.json()["statusCodeValue"] == 403


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (None, "missing hdnea token"),
        ("garbage", "malformed token"),
        ("st=1~exp=9999999999~acl=/*~hmac=00", "bad signature"),
    ],
)
def test_a_bad_token_is_a_403(api: Api, token: str | None, why: str) -> None:
    saved = api.headers["hdnea"]
    api.headers["hdnea"] = token  # type: ignore[assignment]
    try:
        response = api.get()
    finally:
        api.headers["hdnea"] = saved
    assert response.status_code == 403
    assert response.json()["message"] == why


def test_an_expired_token_or_another_key_is_a_403(api: Api, sim: RunningSimulator) -> None:
    saved = api.headers["hdnea"]
    for token in (
        make_token(sim.config.secret, 2000, now=1_000_000_000).value,
        make_token(b"another key", 2000).value,
    ):
        api.headers["hdnea"] = token
        try:
            assert api.get().status_code == 403
        finally:
            api.headers["hdnea"] = saved


@pytest.mark.parametrize(
    "params",
    [
        {"size": 1001},
        {"size": 0},
        {"offset": -1},
        {"offset": 9001, "size": 1000},
        {"offset": "ten"},
        {"orderBy": "title"},
        {"order": "up"},
        {"premium": "yes"},
        {"fromStartDate": "2020-01-01"},
        {"toUpdateDate": "1.5"},
    ],
)
def test_bad_parameters_are_a_400_with_a_json_body(api: Api, params: dict[str, object]) -> None:
    response = api.get(**params)
    assert response.status_code == 400
    assert response.json()["statusCodeValue"] == 400


def test_offset_plus_size_may_reach_10000(serve: Callable[..., Api]) -> None:
    api = serve(movies=10_500, cluster_size=0)
    results = api.results(offset=9000, size=1000)
    assert results["totalPageResults"] == 1000


def test_unknown_paths_and_methods_answer_json(api: Api) -> None:
    response = api.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["statusCode"] == "NOT_FOUND"
    response = api.http.post("/movie/search")
    assert response.status_code == 405
    assert response.json()["statusCodeValue"] == 405


def test_contentid_order_is_stable_and_numeric_both_ways(api: Api) -> None:
    ascending = [item["contentId"] for item in api.walk(orderBy="contentId")]
    assert len(ascending) == len(set(ascending)) == 3000
    assert ascending == sorted(ascending, key=int)
    assert len({len(cid) for cid in ascending}) == 1 and ascending[0].isdigit()
    descending = [item["contentId"] for item in api.walk(orderBy="contentId", order="desc")]
    assert descending == ascending[::-1]


def test_startdate_order_sorts_but_shuffles_ties_per_request(api: Api) -> None:
    items = api.walk(orderBy="startDate")
    starts = [item["startDate"] for item in items]
    assert starts == sorted(starts)
    # The 300-item cluster: the same page, asked twice, comes in another order.
    window = {"fromStartDate": 1483228800, "toStartDate": 1483228800, "orderBy": "startDate"}
    first, second = api.ids(size=300, **window), api.ids(size=300, **window)
    assert sorted(first) == sorted(second) and first != second
    # Paging through ties is unstable: two pages of a tied run can repeat an item.
    pages = [api.ids(size=150, offset=offset, **window) for offset in (0, 150)] * 5
    walks = [set(pages[i]) | set(pages[i + 1]) for i in range(0, 10, 2)]
    assert any(len(walk) < 300 for walk in walks)
    descending = [item["startDate"] for item in api.walk(orderBy="startDate", order="desc")]
    assert descending == sorted(starts, reverse=True)


def test_filters_select_by_start_update_and_premium(api: Api, sim: RunningSimulator) -> None:
    truth = [t.item for t in sim.catalog.truth().items.values()]
    low, high = 946684800, 1262304000  # 2000 .. 2010
    expected = {i["contentId"] for i in truth if low <= i["startDate"] <= high}
    got = {i["contentId"] for i in api.walk(fromStartDate=low, toStartDate=high)}
    assert got == expected and 0 < len(got) < 3000
    updated = sorted(i["updateDate"] for i in truth)[1000]
    expected = {i["contentId"] for i in truth if i["updateDate"] >= updated}
    assert {i["contentId"] for i in api.walk(fromUpdateDate=updated)} == expected
    premium = api.walk(premium=True)
    assert premium and all(i["premium"] is True for i in premium)
    free = api.results(premium=False)["totalResults"]
    assert len(premium) + free == 3000


@pytest.mark.parametrize(
    ("bounds", "at_low", "at_high"),
    [("inclusive", True, True), ("half-open", True, False), ("exclusive", False, False)],
)
def test_bounds_modes(serve: Callable[..., Api], bounds: str, at_low: bool, at_high: bool) -> None:
    api = serve(bounds=bounds)
    second = 1483228800  # the cluster's second: 300 items
    assert api.results(fromStartDate=second, toStartDate=second + 1)["totalResults"] == (
        300 if at_low else 0
    )
    assert api.results(fromStartDate=second - 1, toStartDate=second)["totalResults"] == (
        300 if at_high else 0
    )


def test_the_rate_limit_is_a_token_bucket_of_one(serve: Callable[..., Api]) -> None:
    api = serve(rate_limit=0.5)
    assert api.get().status_code == 200
    refused = api.get()
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["statusCodeValue"] == 429
    # Admin paths are not API requests: never limited.
    assert api.http.get("/_sim/faults").status_code == 200

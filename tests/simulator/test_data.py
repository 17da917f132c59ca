"""The catalogue a seed makes: deterministic, and full of the values real responses showed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator import Catalog, RunningSimulator, SimulatorConfig
from tests.simulator.conftest import SMALL, Api

_CONTRACT_FIELDS = (
    "id contentId title description contentType year duration genre lang langObjs premium vip "
    "paid assetStatus startDate endDate broadCastDate updateDate thumbnail portraitThumbnail "
    "images sourceImages deepLinkUrl deepLinkUrlForLivingRoom locators trailerDeeplinks "
    "parentalRating parentalRatingName"
)
CONTRACT_FIELDS = _CONTRACT_FIELDS.split()
_OPTIONAL_FIELDS = (
    "verticalImages searchKeywords trailers actors anchors directors producers channelObject "
    "playUri"
)
OPTIONAL_FIELDS = _OPTIONAL_FIELDS.split()


def test_a_seed_makes_the_same_catalogue_and_another_seed_another() -> None:
    first, again = Catalog(SMALL).truth_json(), Catalog(SMALL).truth_json()
    assert first == again
    other = SimulatorConfig(
        movies=SMALL.movies, seed=8, cluster_size=300, reference_time=SMALL.reference_time
    )
    assert Catalog(other).truth_json() != first


def test_the_api_serves_the_seeds_items(api: Api) -> None:
    truth = Catalog(SMALL).truth()
    served = api.walk(orderBy="contentId")
    assert [i["contentId"] for i in served] == list(truth.items)
    assert all(item == truth.items[item["contentId"]].item for item in served)


def test_items_carry_every_contract_field_in_about_2_kb(sim: RunningSimulator) -> None:
    items = [t.item for t in sim.catalog.truth().items.values()]
    for item in items:
        assert set(CONTRACT_FIELDS) <= set(item)
        assert item["contentType"] == "MOVIE" and isinstance(item["id"], int)
    sizes = [len(entry.data) for entry in sim.catalog.collection().snapshot()[0]]
    assert 1800 < sum(sizes) / len(sizes) < 3000
    for name in OPTIONAL_FIELDS:  # present in some items, absent in others
        assert 0 < sum(name in item for item in items) < len(items), name
    repeats = [k for i in items for k in [i.get("searchKeywords", [])] if len(k) != len(set(k))]
    assert repeats


def test_dates_and_statuses_look_like_the_real_ones(sim: RunningSimulator) -> None:
    truth = sim.catalog.truth()
    items = [t.item for t in truth.items.values()]
    starts = Counter(i["startDate"] for i in items)
    assert starts[0] > 0
    assert starts[32535072000] > 0
    assert all(i["endDate"] == 32535072000 for i in items if i["startDate"] == 32535072000)
    assert starts[1483228800] == 300  # the cluster
    years = {1970 + s // 31556952 for s in starts if s not in (0, 32535072000)}
    assert min(years) < 1960 and max(years) >= 2024
    unpublished = sum(t.status == "UNPUBLISHED" for t in truth.items.values()) / len(items)
    assert 0.05 < unpublished < 0.09
    ref = sim.config.reference_time
    ends = Counter(
        "none" if t.end_date == 4102424940 else "past" if t.end_date < ref else "later"
        for t in truth.items.values()
    )
    assert ends["none"] > 0.9 * len(items) and ends["past"] > 0 and ends["later"] > 0
    assert all(i["updateDate"] < ref for i in items)


def test_contentids_grow_with_creation(sim: RunningSimulator) -> None:
    items = [t.item for t in sim.catalog.truth().items.values()]
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)


def test_malformed_items_and_id_clashes_are_marked(serve: Callable[..., Api]) -> None:
    api = serve(malformed=5, duplicate_ids=2)
    truth = api.sim.catalog.truth()
    broken = {cid: t for cid, t in truth.items.items() if t.malformed}
    assert len(broken) == 5
    reasons = {t.malformed for t in broken.values()}
    assert "title is null" in reasons and "year is not a number" in reasons
    served = {i["contentId"]: i for i in api.walk()}
    titled = [cid for cid, t in broken.items() if t.malformed == "title is null"]
    assert served[titled[0]]["title"] is None
    assert len(truth.id_clashes) == 2
    over_http = api.http.get("/_sim/truth").json()
    assert over_http["id_clashes"] == {str(k): v for k, v in truth.id_clashes.items()}
    assert sum(i["malformed"] is not None for i in over_http["items"]) == 5
    for shared, content_ids in truth.id_clashes.items():
        assert len(content_ids) == 2
        assert {served[cid]["id"] for cid in content_ids} == {shared}


def test_a_second_can_hold_more_than_the_offset_cap(serve: Callable[..., Api]) -> None:
    api = serve(movies=10_600, cluster_size=10_100)
    second = {"fromStartDate": 1483228800, "toStartDate": 1483228800}
    assert api.results(**second)["totalResults"] == 10_100
    assert api.get(offset=9500, size=1000, **second).status_code == 400


def test_more_clusters_each_hold_their_second_and_share_few_update_seconds() -> None:
    config = SimulatorConfig(
        movies=20_000,
        seed=4,
        cluster_size=6_000,
        more_clusters=(2_000, 9_000),
        cluster_update_seconds=3,
        malformed=0,
    )
    movies = [e.raw for e in Catalog(config).collection("movie").latest().values()]
    starts = Counter(m["startDate"] for m in movies)
    day = 86_400
    assert [starts[1483228800 + k * day] for k in range(3)] == [6_000, 2_000, 9_000]
    for k, size in enumerate((6_000, 2_000, 9_000)):
        updates = Counter(m["updateDate"] for m in movies if m["startDate"] == 1483228800 + k * day)
        assert len(updates) == 3 and sum(updates.values()) == size
    # The rest keep their own startDates and updateDates.
    rest = [m for m in movies if m["startDate"] not in {1483228800 + k * day for k in range(3)}]
    assert len(rest) == 3_000 and len({m["updateDate"] for m in rest}) > 2_900


def test_clusters_may_not_be_negative() -> None:
    with pytest.raises(ConfigError, match="more_clusters must not be negative"):
        SimulatorConfig(more_clusters=(5, -1))
    with pytest.raises(ConfigError, match="cluster_update_seconds must not be negative"):
        SimulatorConfig(cluster_update_seconds=-1)

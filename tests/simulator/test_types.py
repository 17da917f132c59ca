"""Shows, seasons, episodes, matches and channels: where their contract differs from movies'."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator import Catalog, SimulatorConfig
from tests.simulator.conftest import EVERY, PATHS, Api


def test_every_endpoint_serves_its_catalogue(every: Api) -> None:
    sizes = {"movie": 300, "show": 40, "episode": 2500, "match": 1200, "channel": 12}
    for name, size in sizes.items():
        results = every.results(path=PATHS[name], size=5)
        assert results["totalResults"] == size, name
        assert len(every.sim.catalog.truth(name).items) == size
    types = {
        "show": "SHOW",
        "episode": "EPISODE",
        "match": "MATCH",
    }
    for name, content_type in types.items():
        items = every.results(path=PATHS[name], size=50)["items"]
        assert {i["contentType"] for i in items} == {content_type}


def test_a_shows_contentid_is_a_number(every: Api) -> None:
    shows = every.walk(path=PATHS["show"])
    assert all(isinstance(s["contentId"], int) for s in shows)
    assert [s["contentId"] for s in shows] == sorted(s["contentId"] for s in shows)
    by_start = every.walk(path=PATHS["show"], orderBy="startDate")
    starts = [s["startDate"] for s in by_start]
    assert starts == sorted(starts)
    truth = every.sim.catalog.truth("show")
    assert list(truth.items) == [str(s["contentId"]) for s in shows]


def test_seasons_need_a_shows_numeric_id(every: Api) -> None:
    refused = every.get(PATHS["season"])
    assert refused.status_code == 400
    assert refused.json()["message"] == "/season/search needs showId"
    assert every.get(PATHS["season"], showId="x").status_code == 400
    show = every.results(path=PATHS["show"], size=1)["items"][0]
    seasons = every.walk(path=PATHS["season"], showId=show["id"])
    assert seasons and {s["showId"] for s in seasons} == {show["id"]}
    assert sorted(s["displaySeasonNo"] for s in seasons) == list(range(1, len(seasons) + 1))
    # A contentId is not an id: nothing matches.
    assert every.results(path=PATHS["season"], showId=show["contentId"])["totalResults"] == 0


def test_seasons_and_episodes_belong_to_existing_shows(every: Api) -> None:
    catalog = every.sim.catalog
    shows = {t.item["id"] for t in catalog.truth("show").items.values()}
    seasons = [t.item for t in catalog.truth("season").items.values()]
    episodes = [t.item for t in catalog.truth("episode").items.values()]
    assert {s["showId"] for s in seasons} == shows  # every show has a season
    per_show = Counter(s["showId"] for s in seasons)
    assert max(per_show.values()) > 1 and min(per_show.values()) == 1
    by_id = {s["id"]: s for s in seasons}
    assert Counter(e["seasonId"] for e in episodes) == {
        s["id"]: s["episodeCnt"] for s in seasons if s["episodeCnt"]
    }
    for episode in episodes:
        season = by_id[episode["seasonId"]]
        assert (episode["showId"], episode["seasonNo"]) == (
            season["showId"],
            season["displaySeasonNo"],
        )
        assert episode["broadCastDate"] == episode["startDate"]
        assert 1 <= episode["episodeNo"] <= season["episodeCnt"]
    show_id = episodes[0]["showId"]
    served = every.walk(path=PATHS["episode"], showId=show_id)
    assert {e["contentId"] for e in served} == {
        e["contentId"] for e in episodes if e["showId"] == show_id
    }


def test_matches_filter_on_live(every: Api) -> None:
    live = every.walk(path=PATHS["match"], live=True)
    vod = every.results(path=PATHS["match"], live=False)["totalResults"]
    assert live and all(m["live"] is True for m in live)
    assert len(live) + vod == 1200
    assert every.get(PATHS["match"], live="maybe").status_code == 400
    match = live[0]
    for name in ("sportsSeasonId", "tournamentId", "siMatchId", "gameName"):
        assert name in match
    assert every.get(PATHS["movie"], live=True).status_code == 200  # not a movie filter


def test_channels_order_and_filter_by_es_update_date_in_ms(every: Api) -> None:
    channels = every.walk(path=PATHS["channel"])  # esUpdateDate is the default order
    stamps = [c["esUpdateDate"] for c in channels]
    assert stamps == sorted(stamps) and len(channels) == 12
    assert all(c["esUpdateDate"] // 1000 == c["updateDate"] for c in channels)
    assert {"id", "contentId", "name", "enabledPlatforms"} <= set(channels[0])
    middle = stamps[6]
    later = every.walk(path=PATHS["channel"], fromUpdateDate=middle)
    assert [c["esUpdateDate"] for c in later] == stamps[6:]
    # A bound in seconds is a moment in January 1970 in milliseconds: every channel is later.
    seconds = every.results(path=PATHS["channel"], fromUpdateDate=middle // 1000)
    assert seconds["totalResults"] == 12
    by_id = every.walk(path=PATHS["channel"], orderBy="contentId", order="desc")
    assert [c["contentId"] for c in by_id] == sorted(
        (c["contentId"] for c in channels), reverse=True
    )
    refused = every.get(PATHS["channel"], toUpdateDate="soon")
    assert "epoch ms" in refused.json()["message"]


def test_one_rate_limit_bucket_per_partner_across_endpoints(serve: Callable[..., Api]) -> None:
    api = serve(rate_limit=0.5, shows=5, episodes=0, matches=0, channels=0)
    assert api.get(PATHS["movie"]).status_code == 200
    for path in (PATHS["show"], PATHS["channel"], PATHS["episode"]):
        assert api.get(path).status_code == 429


def test_sizes_of_zero_answer_empty_results(serve: Callable[..., Api]) -> None:
    api = serve(movies=0, shows=0, episodes=0, matches=0, channels=0)
    for path in PATHS.values():
        results = api.results(path=path, showId=1)
        assert results["totalResults"] == 0 and results["items"] == []


def test_types_are_made_at_their_first_use(serve: Callable[..., Api]) -> None:
    api = serve(shows=5, episodes=100, matches=10, channels=3)
    assert api.results()["totalResults"] == 3000
    assert [api.sim.catalog.ready(name) for name in PATHS] == [True] + [False] * 5
    assert api.results(path=PATHS["episode"])["totalResults"] == 100
    assert api.sim.catalog.ready("show") and api.sim.catalog.ready("season")
    eager = Catalog(SimulatorConfig(movies=10, shows=3, episodes=20, matches=5, eager=True))
    assert all(eager.ready(name) for name in PATHS)


def test_a_seed_makes_the_same_items_whatever_type_comes_first() -> None:
    first, second = Catalog(EVERY), Catalog(EVERY)
    names = list(PATHS)
    for name in names:
        first.collection(name)
    for name in reversed(names):
        second.collection(name)
    for name in names:
        assert first.truth_json(name) == second.truth_json(name), name


def test_faults_and_churn_hit_every_endpoint(serve: Callable[..., Api]) -> None:
    api = serve(shows=10, episodes=300, matches=100, channels=5)
    api.sim.faults.fail_next(1, "error")
    assert api.get(PATHS["episode"]).status_code == 503
    api.sim.faults.set(churn_rate=1.0, churn_items=2)
    before = api.results(path=PATHS["match"])["totalResults"]
    api.results(path=PATHS["match"])
    truth = api.sim.catalog.truth("match")
    assert before == 100 and len(truth.removed) == 4 and len(truth.items) == 100


@pytest.mark.parametrize(("shows", "episodes"), [(-1, 0), (0, 5)])
def test_bad_sizes_are_refused(shows: int, episodes: int) -> None:
    with pytest.raises(ConfigError):
        SimulatorConfig(shows=shows, episodes=episodes)

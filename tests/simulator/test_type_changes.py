"""Days of changes and the ground truth of every type; a show's change brings its seasons'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.simulator.conftest import PATHS, Api

SIZES = {"shows": 30, "episodes": 1500, "matches": 300, "channels": 10}


@pytest.mark.parametrize("content_type", ["show", "episode", "match", "channel"])
def test_a_day_of_changes_shows_in_the_api_and_the_truth(
    serve: Callable[..., Api], content_type: str
) -> None:
    api = serve(**SIZES)
    catalog = api.sim.catalog
    before = catalog.truth(content_type)
    day = catalog.apply_day(
        adds=2, back_catalogue_adds=1, updates=3, unpublish=1, removals=1, content_type=content_type
    )
    truth = catalog.truth(content_type)
    assert len(truth.items) == len(before.items) + 2
    assert truth.removed == set(day.removed)
    assert truth.items[day.unpublished[0]].status == "UNPUBLISHED"
    changed = set(day.added + day.back_catalogue_added + day.updated + day.unpublished)
    since = day.update_date
    if content_type == "channel":  # its update filters are in ms, on esUpdateDate
        since = int(day.visible_at * 1000)
        assert all(truth.items[cid].item["esUpdateDate"] == since for cid in changed)
    polled = api.walk(path=PATHS[content_type], fromUpdateDate=since)
    assert {str(i["contentId"]) for i in polled} == changed
    served = api.walk(path=PATHS[content_type], orderBy="contentId")
    assert [str(i["contentId"]) for i in served] == list(truth.items)


def test_a_new_episode_joins_a_season_of_an_existing_show(serve: Callable[..., Api]) -> None:
    api = serve(**SIZES)
    catalog = api.sim.catalog
    day = catalog.apply_day(adds=3, content_type="episode")
    seasons = {t.item["id"]: t.item for t in catalog.truth("season").items.values()}
    for cid in day.added:
        episode = catalog.truth("episode").items[cid].item
        season = seasons[episode["seasonId"]]
        assert episode["showId"] == season["showId"]
        assert episode["episodeNo"] > season["episodeCnt"]  # numbers follow on


def test_a_shows_change_brings_its_seasons(serve: Callable[..., Api]) -> None:
    api = serve(**SIZES)
    catalog = api.sim.catalog
    catalog.truth("episode")  # make seasons and episodes first
    shows = catalog.truth("show")
    day = catalog.apply_day(updates=2, adds=1, removals=1, content_type="show")
    seasons = day.related["season"]
    truth = catalog.truth("season")
    by_show: dict[int, list[dict[str, Any]]] = {}
    for t in truth.items.values():
        by_show.setdefault(t.item["showId"], []).append(t.item)
    for cid in day.updated:
        show_id = shows.items[cid].item["id"]
        newest = max(by_show[show_id], key=lambda s: s["displaySeasonNo"])
        assert newest["contentId"] in seasons.updated
        assert newest["updateDate"] == day.update_date
    new_show = catalog.truth("show").items[day.added[0]].item
    assert {s["contentId"] for s in by_show[new_show["id"]]} == set(seasons.added)
    assert all(s["updateDate"] == day.update_date for s in by_show[new_show["id"]])
    gone = shows.items[day.removed[0]].item["id"]
    assert gone not in by_show and set(seasons.removed) <= truth.removed
    assert all(t.item["showId"] != gone for t in catalog.truth("episode").items.values())
    assert set(day.related["episode"].removed) <= catalog.truth("episode").removed
    # The mirror asks only the changed and new shows for their seasons.
    polled = api.walk(path=PATHS["season"], showId=new_show["id"], fromUpdateDate=day.update_date)
    assert {s["contentId"] for s in polled} == set(seasons.added)


def test_a_shows_change_before_its_seasons_are_made_needs_nothing(
    serve: Callable[..., Api],
) -> None:
    api = serve(**SIZES)
    day = api.sim.catalog.apply_day(adds=1, removals=1, content_type="show")
    assert day.related == {} and not api.sim.catalog.ready("season")
    seasons = [t.item for t in api.sim.catalog.truth("season").items.values()]
    shows = {t.item["id"] for t in api.sim.catalog.truth("show").items.values()}
    assert {s["showId"] for s in seasons} == shows


def test_admin_paths_take_the_type(serve: Callable[..., Api]) -> None:
    api = serve(**SIZES)
    response = api.http.post("/_sim/day", params={"type": "show"}, json={"updates": 1})
    assert response.status_code == 200
    assert response.json()["related"] == {}  # seasons not made yet
    truth = api.http.get("/_sim/truth", params={"type": "season"}).json()
    assert truth["type"] == "season" and truth["items"]
    assert all("showId" in entry["item"] for entry in truth["items"])
    day = api.http.post("/_sim/day", params={"type": "show"}, json={"updates": 1}).json()
    assert len(day["related"]["season"]["updated"]) == 1
    channel = api.http.post("/_sim/day", params={"type": "channel"}, json={"malformed": 1})
    broken = channel.json()["malformed"][0]
    served = {c["contentId"]: c for c in api.walk(path=PATHS["channel"])}
    assert served[broken]["name"] is None

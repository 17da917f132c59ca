"""Days of changes, the search index's lag, and the ground truth, from Python and over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.simulator.conftest import Api


def test_a_day_of_changes_shows_in_the_api_and_the_truth(serve: Callable[..., Api]) -> None:
    api = serve()
    before = api.sim.catalog.truth()
    newest = max(int(cid) for cid in before.items)
    day = api.sim.catalog.apply_day(
        adds=4, back_catalogue_adds=3, updates=5, unpublish=2, republish=2, removals=3
    )
    truth = api.sim.catalog.truth()
    assert len(truth.items) == 3000 + 4 + 3 - 3
    assert truth.removed == set(day.removed) and not set(day.removed) & set(truth.items)
    assert all(int(cid) > newest for cid in day.added + day.back_catalogue_added)
    old = [truth.items[cid].item["startDate"] for cid in day.back_catalogue_added]
    assert all(start < time.time() - 10 * 365 * 86400 for start in old)
    for cid in day.unpublished:
        assert before.items[cid].status == "PUBLISHED" and truth.items[cid].status == "UNPUBLISHED"
    for cid in day.republished:
        assert truth.items[cid].status == "PUBLISHED"
    changed = set(day.added + day.back_catalogue_added + day.updated)
    changed |= set(day.unpublished + day.republished)
    polled = api.walk(fromUpdateDate=day.update_date)
    assert {i["contentId"] for i in polled} == changed
    assert all(i["updateDate"] == day.update_date for i in polled)
    for cid in day.updated:
        assert truth.items[cid].item["description"] != before.items[cid].item["description"]
    assert {i["contentId"] for i in api.walk()} == set(truth.items)


def test_changes_show_only_after_the_index_lag(serve: Callable[..., Api]) -> None:
    api = serve(index_lag_seconds=1.0)
    day = api.sim.catalog.apply_day(adds=2, removals=1)
    assert api.results(fromUpdateDate=day.update_date)["totalResults"] == 0
    assert api.results()["totalResults"] == 3000
    truth = api.sim.catalog.truth()
    assert truth.pending == 3 and not truth.removed
    time.sleep(max(0.0, day.visible_at - time.time()) + 0.05)
    assert set(api.ids(fromUpdateDate=day.update_date)) == set(day.added)
    assert api.results()["totalResults"] == 3001
    assert api.sim.catalog.truth().removed == set(day.removed)


def test_a_malformed_change_is_an_update_that_stays_broken(serve: Callable[..., Api]) -> None:
    api = serve()
    day = api.sim.catalog.apply_day(malformed=2)
    again = api.sim.catalog.apply_day(updates=3000)
    truth = api.sim.catalog.truth()
    for cid in day.malformed:
        assert cid in again.updated
        assert truth.items[cid].malformed is not None


def test_admin_paths_change_and_tell(serve: Callable[..., Api]) -> None:
    api = serve()
    response = api.http.post("/_sim/day", json={"adds": 2, "removals": 1, "updates": 1})
    assert response.status_code == 200
    day = response.json()
    assert len(day["added"]) == 2 and len(day["removed"]) == 1 and len(day["updated"]) == 1
    truth = api.http.get("/_sim/truth").json()
    assert truth["type"] == "movie" and truth["pending"] == 0
    assert truth["removed"] == day["removed"]
    assert len(truth["items"]) == 3001
    first = truth["items"][0]
    assert set(first) == {"contentId", "status", "endDate", "malformed", "item"}
    assert first["item"] == api.sim.catalog.truth().items[first["contentId"]].item
    assert api.http.post("/_sim/day", json={"adds": "many"}).status_code == 400
    assert api.http.post("/_sim/day", json={"floods": 1}).status_code == 400
    assert api.http.post("/_sim/day", content=b"[1]").status_code == 400
    assert api.http.get("/_sim/truth", params={"type": "radio"}).status_code == 400

"""Faults: forced ones for exact client tests, random ones at seeded rates, churn."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator import FaultSettings
from tests.simulator.conftest import Api


def test_forced_faults_hit_the_next_requests_in_turn(serve: Callable[..., Api]) -> None:
    api = serve()
    faults = api.sim.faults
    faults.fail_next(2, "error")
    faults.fail_next(1, "rate_limit")
    faults.fail_next(1, "forbidden")
    assert faults.forced == 4
    # A request the contract refuses does not use up a forced fault.
    assert api.get(size=5000).status_code == 400
    statuses = [api.get() for _ in range(5)]
    assert [r.status_code for r in statuses] == [503, 503, 429, 403, 200]
    assert statuses[0].json()["statusCodeValue"] == 503
    assert statuses[2].headers["retry-after"] == "1"


def test_a_dropped_answer_is_cut_off_mid_body(serve: Callable[..., Api]) -> None:
    api = serve()
    api.sim.faults.fail_next(1, "drop")
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        api.get(size=1000)
    assert api.get(size=1000).status_code == 200


def test_a_slow_answer_comes_after_the_delay(serve: Callable[..., Api]) -> None:
    api = serve(faults=FaultSettings(slow_seconds=1.5))
    api.sim.faults.fail_next(1, "slow")
    with pytest.raises(httpx.ReadTimeout):
        api.http.get(
            "/movie/search", params={"partner": api.partner}, headers=api.headers, timeout=1.0
        )
    api.sim.faults.fail_next(1, "slow")
    started = time.monotonic()
    assert api.get().status_code == 200
    assert time.monotonic() - started >= 1.5


def test_fault_rates_are_seeded(serve: Callable[..., Api]) -> None:
    runs = []
    for _ in range(2):
        api = serve(faults=FaultSettings(error_rate=0.5), fault_seed=3)
        runs.append([api.get().status_code for _ in range(30)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_faults_change_at_run_time_over_http(serve: Callable[..., Api]) -> None:
    api = serve()
    response = api.http.post("/_sim/faults", json={"error_rate": 1.0})
    assert response.status_code == 200 and response.json()["error_rate"] == 1.0
    assert api.get().status_code == 503
    assert api.http.post("/_sim/fail-next", json={"count": 2, "kind": "drop"}).json()["forced"] == 2
    cleared = api.http.delete("/_sim/faults").json()
    assert cleared["error_rate"] == 0.0 and cleared["forced"] == 0
    assert api.get().status_code == 200
    assert api.http.get("/_sim/faults").json()["slow_seconds"] == 6.0
    assert api.http.post("/_sim/faults", json={"flood_rate": 1}).status_code == 400
    assert api.http.post("/_sim/faults", json={"error_rate": 2}).status_code == 400
    assert api.http.post("/_sim/fail-next", json={"kind": "fire"}).status_code == 400


def test_bad_fault_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="error_rate must be between 0 and 1"):
        FaultSettings(error_rate=1.5)


def test_churn_adds_and_removes_items_while_a_client_pages(serve: Callable[..., Api]) -> None:
    api = serve(faults=FaultSettings(churn_rate=1.0, churn_items=3))
    first = api.results(size=1000)
    api.results(offset=1000, size=1000)
    truth = api.sim.catalog.truth()
    assert len(truth.removed) == 6
    assert len(truth.items) == 3000  # as many added as removed: the total does not move
    assert first["totalResults"] == 3000
    assert set(api.sim.catalog.truth().items) != {i["contentId"] for i in first["items"]}

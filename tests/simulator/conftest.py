"""A simulator on a free loopback port, and a client that speaks the contract to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from hotstar_sync.api.token import make_token
from hotstar_sync.simulator import RunningSimulator, SimulatorConfig, serve_in_thread

#: Small and quick to make; tests that need more items say so.
SMALL = SimulatorConfig(movies=3000, seed=7, rate_limit=0.0, cluster_size=300, malformed=0)
#: Every content type, small: ~100 seasons share the episodes.
EVERY = SimulatorConfig(
    movies=300,
    shows=40,
    episodes=2500,
    matches=1200,
    channels=12,
    seed=7,
    rate_limit=0.0,
    cluster_size=30,
    malformed=0,
)
PATHS = {
    "movie": "/movie/search",
    "show": "/show/search",
    "season": "/season/search",
    "episode": "/episode/search",
    "match": "/match/search",
    "channel": "/channel/list",
}


class Api:
    """A client with the contract's headers, a valid token and the partner parameter."""

    def __init__(self, sim: RunningSimulator, **client: Any) -> None:
        self.sim = sim
        self.partner = sim.config.partner_id
        self.headers = {
            "x-country-code": "in",
            "x-platform-code": "ANDROID",
            "x-region-code": "DL",
            "x-client-code": "pt",
            "x-partner-name": self.partner,
            "hdnea": make_token(sim.config.secret, 2000).value,
        }
        self.http = httpx.Client(base_url=sim.base_url, timeout=30, **client)

    def get(self, path: str = "/movie/search", **params: Any) -> httpx.Response:
        """GET with every mandatory part; a header or parameter set to None is left out."""
        headers = {k: v for k, v in self.headers.items() if v is not None}
        query = {"partner": self.partner} | {
            k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()
        }
        return self.http.get(
            path, params={k: v for k, v in query.items() if v is not None}, headers=headers
        )

    def results(self, **params: Any) -> dict[str, Any]:
        response = self.get(**params)
        assert response.status_code == 200, response.text
        results: dict[str, Any] = response.json()["body"]["results"]
        return results

    def ids(self, **params: Any) -> list[str]:
        return [item["contentId"] for item in self.results(**params)["items"]]

    def walk(self, **params: Any) -> list[dict[str, Any]]:
        """Every item of a filter (at most 10,000), page by page."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            results = self.results(offset=offset, size=1000, **params)
            items += results["items"]
            offset += 1000
            if offset >= results["totalResults"] or offset + 1000 > 10_000:
                return items


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    """A shared simulator for tests that change nothing."""
    with serve_in_thread(SMALL) as running:
        yield running


@pytest.fixture(scope="module")
def api(sim: RunningSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def every() -> Iterator[Api]:
    """A shared simulator of every type, small, for tests that change nothing."""
    with serve_in_thread(EVERY) as running:
        client = Api(running)
        yield client
        client.http.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Api]]:
    """Start a simulator of one's own: `serve(movies=..., ...)` gives a client to it."""
    with ExitStack() as stack:

        def start(**changes: Any) -> Api:
            config = SimulatorConfig(
                **{
                    "movies": SMALL.movies,
                    "seed": SMALL.seed,
                    "rate_limit": 0.0,
                    "cluster_size": SMALL.cluster_size,
                    "malformed": 0,
                }
                | changes
            )
            running = stack.enter_context(serve_in_thread(config))
            client = Api(running)
            stack.callback(client.http.close)
            return client

        yield start

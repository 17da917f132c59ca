"""How fast the simulator serves 1,000-item pages to one client (issue 4: >= 50 pages/s).

The simulator runs in a process of its own (`hotstar-sync simulate`), the client is httpx in
this one, as an ingest would be. Printed: pages/s for contentId and startDate orderings,
MB/s, and the ratio of each to the 50 pages/s target and to a baseline measured in the same
run (1-item pages: the cost of a request with almost no body).

    .venv/bin/python bench/bench_simulator.py [--movies 51495] [--pages 300]
"""

from __future__ import annotations

import argparse
import time

import httpx

from hotstar_sync.api.token import make_token
from hotstar_sync.simulator import SimulatorConfig, serve_in_process

TARGET_PAGES_PER_SECOND = 50


def _client(base_url: str, config: SimulatorConfig) -> httpx.Client:
    headers = {
        "x-country-code": "in",
        "x-platform-code": "ANDROID",
        "x-region-code": "DL",
        "x-partner-name": config.partner_id,
        "hdnea": make_token(config.secret, 3600).value,
    }
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def _walk(client: httpx.Client, partner: str, pages: int, size: int, order_by: str) -> tuple:
    """Fetch `pages` pages, walking the offsets of a few filters in turn; (seconds, bytes)."""
    filters: list[dict[str, str]] = [{}, {"premium": "true"}, {"premium": "false"}]
    received, done, started = 0, 0, time.perf_counter()
    while done < pages:
        for extra in filters:
            offset = 0
            while done < pages and offset + size <= 10_000:
                params = {"partner": partner, "size": str(size), "offset": str(offset)}
                response = client.get(
                    "/movie/search", params=params | extra | {"orderBy": order_by}
                )
                response.raise_for_status()
                received += len(response.content)
                done += 1
                offset += size
    return time.perf_counter() - started, received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movies", type=int, default=51495)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    config = SimulatorConfig(movies=args.movies, seed=1, rate_limit=0.0, malformed=0)
    started = time.perf_counter()
    with serve_in_process(config) as sim, _client(sim.base_url, config) as client:
        print(f"simulator with {args.movies} movies ready in {time.perf_counter() - started:.1f} s")
        _walk(client, config.partner_id, 20, 1000, "contentId")  # warm the caches
        base_seconds, _ = _walk(client, config.partner_id, args.pages, 1, "contentId")
        baseline = args.pages / base_seconds
        print(f"baseline, 1-item pages:           {baseline:7.1f} pages/s")
        for order_by in ("contentId", "startDate"):
            seconds, received = _walk(client, config.partner_id, args.pages, 1000, order_by)
            rate = args.pages / seconds
            print(
                f"1,000-item pages, {order_by:>9}:     {rate:7.1f} pages/s "
                f"{received / seconds / 1e6:6.1f} MB/s  "
                f"x{rate / TARGET_PAGES_PER_SECOND:.2f} the target; "
                f"a page costs x{baseline / rate:.1f} a 1-item page"
            )


if __name__ == "__main__":
    main()

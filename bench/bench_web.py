"""The status server under load: 2,000 requests from 64 threads, as a wall of dashboards and
a scraper would send them, against the server as it ships (a pool of 4 connections, each
answer cached 2 s) and, side by side in the same run, without the cache and with up to 64
connections (one per thread, as the server before issue 17 opened one per request).

Each server runs in a process of its own (`uvicorn` over `create_app`) on a scratch
database holding a loaded mirror (an unpaced ingest from the simulator) and a year of sync
log. The load mixes the page's calls (/, /api/runs, /api/daily, /api/health) with /healthz
and /metrics. It prints p50 and p99 latency, the requests per second, and the most database
backends the server held at once (sampled from pg_stat_activity every 20 ms), against the
target: p99 <= 0.5 s with <= 5 backends on 2 cores.

    .venv/bin/python bench/bench_web.py [--movies 51495] [--requests 2000] [--threads 64]
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import structlog

from bench_sync import SERVER, _url, scratch
from hotstar_sync.config import load_settings
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.simulator import SimulatorConfig, serve_in_process

PATHS = [
    "/",
    "/api/runs",
    "/api/runs?limit=365",
    "/api/daily",
    "/api/health",
    "/healthz",
    "/metrics",
]
SERVE = """
import sys, uvicorn
from hotstar_sync.ops.web import create_app
url, port, pool, cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
uvicorn.run(create_app(url, pool_size=pool, cache_seconds=cache), host="127.0.0.1",
            port=port, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def a_year_of_runs(url: str) -> None:
    """365 daily syncs and 52 reconciles before the ingest's run, as a year leaves them."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO hotstar_sync_log (sync_type, content_type, status, started_at,"
            " completed_at, duration_seconds, total_items_fetched, items_added, items_updated,"
            " items_deleted, api_requests_made)"
            " SELECT CASE WHEN d % 7 = 0 THEN 'reconcile' ELSE 'daily' END, 'movie',"
            " 'completed', now() - make_interval(days => d), now() - make_interval(days => d)"
            " + interval '40 s', 40, 600, 20, 30, 2, 3 FROM generate_series(1, 365) d"
        )


def backends(url: str, stop: threading.Event, most: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.02):
            (count,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name = 'hotstar-sync'"
            ).fetchone() or (0,)
            most[0] = max(most[0], int(count))


def load(url: str, pool: int, cache: float, requests: int, threads: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, url, str(port), str(pool), str(cache)],
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/static/app.js")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
        stop, most = threading.Event(), [0]
        sampler = threading.Thread(target=backends, args=(url, stop, most))
        sampler.start()
        times: list[float] = []
        failed = [0]
        local = threading.local()

        def one(n: int) -> None:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=base, timeout=60)
            started = time.perf_counter()
            response = local.client.get(PATHS[n % len(PATHS)])
            times.append(time.perf_counter() - started)
            failed[0] += response.status_code != 200

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as executor:
            list(executor.map(one, range(requests)))
        wall = time.perf_counter() - began
        stop.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait()
    cuts = statistics.quantiles(times, n=100)
    return {
        "p50": cuts[49],
        "p99": cuts[98],
        "rps": requests / wall,
        "backends": most[0],
        "failed": failed[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=51_495)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    config = SimulatorConfig(movies=args.movies, rate_limit=0)
    with scratch() as name, serve_in_process(config) as sim:
        url = _url(name)
        upgrade(url)
        a_year_of_runs(url)
        ingest(load_settings(api_base_url=sim.base_url, database_url=url, rate_limit_rps=0))
        print(
            f"status server: {args.requests:,} requests from {args.threads} threads, "
            f"{args.movies:,} movies, 366 runs; database {SERVER.rpartition('/')[0]}/{name}"
        )
        print(f"{'server':38}  {'p50 s':>7}  {'p99 s':>7}  {'req/s':>7}  backends  failed")
        results = {}
        for label, pool, cache in (
            ("as shipped: pool of 4, 2 s cache", 4, 2.0),
            ("no cache, up to 64 connections", args.threads, 0.0),
        ):
            r = results[label] = load(url, pool, cache, args.requests, args.threads)
            print(
                f"{label:38}  {r['p50']:7.3f}  {r['p99']:7.3f}  {r['rps']:7.0f}"
                f"  {r['backends']:8}  {r['failed']:6}"
            )
        ours, before = results.values()
        print(
            f"as shipped / without: p99 {ours['p99'] / before['p99']:.2f} x, throughput "
            f"{ours['rps'] / before['rps']:.1f} x; target p99 <= 0.5 s with <= 5 backends: "
            + ("met" if ours["p99"] <= 0.5 and ours["backends"] <= 5 else "NOT met")
        )


if __name__ == "__main__":
    main()

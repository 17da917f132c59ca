"""The whole catalogue: a full load of every type, then a no-change daily sync of every type.

Unpaced against the simulator in its own process (`--eager`: every type made before the
clock starts) and a scratch database on DATABASE_URL or HOTSTAR_TEST_DATABASE_URL. Prints,
per type: items, requests against the issue's budget (1.1 x ceil(N / 1,000) per type, plus
one request per show for seasons), seconds and items/s; then the requests of a quiet sync.

    .venv/bin/python bench/bench_catalogue.py [--scale 1.0] [--seed 0]

`--scale` multiplies the contract's sizes (51,495 movies, 6,111 shows, 686,432 episodes,
175,031 matches, 40 channels), for machines that cannot hold the whole catalogue (the
simulator needs about 2.4 GB at scale 1).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
import uuid

import psycopg
import structlog

from hotstar_sync.config import load_settings
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.jobs.ingest import ingest_types
from hotstar_sync.jobs.sync import sync_types
from hotstar_sync.model.content import CONTENT_TYPES
from hotstar_sync.simulator import SimulatorConfig, serve_in_process

SERVER = os.environ.get(
    "DATABASE_URL",
    os.environ.get("HOTSTAR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
SIZES = {"movies": 51_495, "shows": 6_111, "episodes": 686_432, "matches": 175_031}


def _url(name: str) -> str:
    base, _, _ = SERVER.rpartition("/")
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sizes = {name: max(1, round(n * args.scale)) for name, n in SIZES.items()}
    config = SimulatorConfig(seed=args.seed, rate_limit=0, eager=True, channels=40, **sizes)
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(_url(name))
        started = time.monotonic()
        with serve_in_process(config) as sim:
            print(f"simulator ready in {time.monotonic() - started:.0f} s: {sizes}, 40 channels")
            settings = load_settings(
                api_base_url=sim.base_url,
                database_url=_url(name),
                rate_limit_rps=0,
                reconcile_every_days=30,
                lookback_seconds=60,
            )
            kinds = list(CONTENT_TYPES.values())
            loaded = ingest_types(settings, kinds)
            quiet = sync_types(settings, kinds, reconcile=False)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"\n{'type':<8} {'items':>9} {'requests':>9} {'budget':>7} {'seconds':>8} {'items/s':>8}")
    shows = next(r.items_fetched for r in loaded if r.content_type == "show")
    total_requests = total_budget = 0.0
    for report in loaded:
        n = report.items_fetched
        # Seasons: one request per show (the budget's "plus one per show"), no page floor.
        budget = shows if report.content_type == "season" else 1.1 * max(1, math.ceil(n / 1000))
        total_requests += report.requests
        total_budget += budget
        print(
            f"{report.content_type:<8} {n:>9,} {report.requests:>9,} {budget:>7.0f} "
            f"{report.seconds:>8.1f} {n / max(report.seconds, 1e-9):>8,.0f}"
        )
    items = sum(r.items_fetched for r in loaded)
    seconds = sum(r.seconds for r in loaded)
    print(
        f"{'all':<8} {items:>9,} {total_requests:>9,.0f} {total_budget:>7.0f} {seconds:>8.1f} "
        f"{items / seconds:>8,.0f}"
    )
    print("\nno-change daily sync (update window + count probe; seasons: shows changed)")
    for report in quiet:
        parents = "" if report.parents is None else f", {report.parents} show(s) asked"
        print(
            f"{report.content_type:<8} {report.requests:>3} request(s){parents}, "
            f"{report.counts.added} added, {report.counts.updated} updated"
        )


if __name__ == "__main__":
    main()

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
from psycopg import sql

from hotstar_sync.config import load_settings
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.jobs.ingest import ingest_types
from hotstar_sync.jobs.sync import sync_types
from hotstar_sync.logging import configure_logging
from hotstar_sync.model.content import CONTENT_TYPES, ContentType
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
    configure_logging()  # info and up: library debug lines (one per request) are noise here
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
        stored = _stored(_url(name), kinds)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(
        f"\n{'type':<8} {'stored':>9} {'fetched':>9} {'requests':>9} {'floor':>6} {'budget':>7} "
        f"{'seconds':>8} {'stored/s':>9}"
    )
    # The floor is ceil(N / 1,000) for the N items the type holds (stored rows, quarantine
    # included), not the items fetched: re-reads are what the budget is there to bound.
    shows = stored["show"]
    totals = {"requests": 0, "floor": 0, "seasons": 0, "stored": 0, "fetched": 0}
    seconds = 0.0
    for report in loaded:
        n = stored[report.content_type]
        season = report.content_type == "season"
        floor = 0 if season else max(1, math.ceil(n / 1000))
        # Seasons: one request per show (the budget's "plus one per show"), no page floor.
        budget = shows if season else 1.1 * floor
        totals["requests"] += report.requests
        totals["floor"] += floor
        totals["seasons"] += shows if season else 0
        totals["stored"] += n
        totals["fetched"] += report.items_fetched
        seconds += report.seconds
        print(
            f"{report.content_type:<8} {n:>9,} {report.items_fetched:>9,} {report.requests:>9,} "
            f"{floor:>6} {budget:>7.0f} {report.seconds:>8.1f} "
            f"{n / max(report.seconds, 1e-9):>9,.0f}"
        )
    budget = 1.1 * totals["floor"] + totals["seasons"]
    print(
        f"{'all':<8} {totals['stored']:>9,} {totals['fetched']:>9,} {totals['requests']:>9,} "
        f"{totals['floor']:>6} {budget:>7.0f} {seconds:>8.1f} {totals['stored'] / seconds:>9,.0f}"
    )
    print(
        f"requests / budget: {totals['requests'] / budget:.3f}; pages beyond the seasons: "
        f"{totals['requests'] - totals['seasons']} = "
        f"{(totals['requests'] - totals['seasons']) / totals['floor']:.3f} x their floor"
    )
    print("\nno-change daily sync (update window + count probe; seasons: shows changed)")
    for synced in quiet:
        parents = "" if synced.parents is None else f", {synced.parents} show(s) asked"
        print(
            f"{synced.content_type:<8} {synced.requests:>3} request(s){parents}, "
            f"{synced.counts.added} added, {synced.counts.updated} updated"
        )


def _stored(url: str, kinds: list[ContentType]) -> dict[str, int]:
    """Rows per type: the mirror's (deleted ones too) and the quarantine's."""
    with psycopg.connect(url) as conn:
        return {
            kind.name: conn.execute(
                sql.SQL(
                    "SELECT (SELECT count(*) FROM {}) + (SELECT count(*) FROM hotstar_quarantine"
                    " WHERE content_type = %s)"
                ).format(sql.Identifier(kind.table)),
                (kind.name,),
            ).fetchone()[0]  # type: ignore[index]
            for kind in kinds
        }


if __name__ == "__main__":
    main()

"""Requests against the floor, shape by shape (issue 18): what a first load, a reconcile and
a day's sync cost when a catalogue's startDates pile up in bulk-import seconds.

For each shape the simulator (its own process, unpaced) serves a catalogue of movies, an
ingest loads it into a scratch database, a reconcile passes over it again, then a day of
50 updates and 25 silent removals is synced (the count probe, or the reconcile it falls
back to). The floor is ceil(N/1000) requests, one per page of 1,000; the issue's target
is 1.1 x the floor for ingest and reconcile, and for the sync the changed items' pages
plus the cheaper of the probe's bisection and a full pass, plus 2.

    .venv/bin/python bench/bench_floor.py [--only NAME] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass, field

import structlog

from bench_sync import _url, day, scratch
from hotstar_sync.config import load_settings
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.reconcile import reconcile
from hotstar_sync.jobs.sync import sync
from hotstar_sync.simulator import SimulatorConfig, serve_in_process


@dataclass(frozen=True)
class Shape:
    name: str
    movies: int
    cluster: int
    more: tuple[int, ...] = ()
    update_seconds: int = 0
    note: str = field(default="")


SHAPES = (
    Shape("default catalogue", 51_495, 3_000, note="one bulk second of 3,000"),
    Shape("one second of 11,000", 30_000, 11_000),
    Shape("one second of 30,000", 50_000, 30_000),
    Shape("one second of 100,000", 120_000, 100_000),
    Shape(
        "seconds of 2,000-9,000",
        45_000,
        5_000,
        (2_000, 9_000, 3_000, 7_000, 4_000, 8_000),
        note="seven bulk seconds",
    ),
    Shape("12,000 in a second, 2 updateDates", 30_000, 12_000, update_seconds=2),
)


def run(shape: Shape, scale: float) -> dict[str, int]:
    movies = max(1, round(shape.movies * scale))
    config = SimulatorConfig(
        movies=movies,
        rate_limit=0,
        cluster_size=round(shape.cluster * scale),
        more_clusters=tuple(round(size * scale) for size in shape.more),
        cluster_update_seconds=shape.update_seconds,
        malformed=0,
    )
    with scratch() as name, serve_in_process(config) as sim:
        url = _url(name)
        upgrade(url)
        settings = load_settings(
            api_base_url=sim.base_url,
            database_url=url,
            rate_limit_rps=0,
            reconcile_every_days=30,
        )
        first = ingest(settings)
        again = reconcile(settings)
        day(sim.base_url, updates=50, removals=25)
        synced = sync(settings)
        fallback = synced.reconcile.requests if synced.reconcile else 0
        return {
            "movies": movies,
            "floor": math.ceil(movies / 1000),
            "ingest": first.requests,
            "ingest_ok": first.status == "completed",
            "reconcile": again.requests,
            "sync": synced.requests + fallback,
            "fell_back": synced.reconcile is not None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the shapes whose name holds this text")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every shape")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    print(
        f"{'shape':36} {'movies':>8} {'floor':>6} {'ingest':>7} {'x':>5} "
        f"{'reconcile':>9} {'x':>5} {'sync, 25 gone':>14}"
    )
    worst = 0.0
    for shape in SHAPES:
        if args.only and args.only not in shape.name:
            continue
        r = run(shape, args.scale)
        ingest_x, reconcile_x = r["ingest"] / r["floor"], r["reconcile"] / r["floor"]
        worst = max(worst, ingest_x, reconcile_x)
        how = "reconciled" if r["fell_back"] else "probed"
        print(
            f"{shape.name:36} {r['movies']:>8,} {r['floor']:>6} {r['ingest']:>7}"
            f" {ingest_x:>5.2f} {r['reconcile']:>9} {reconcile_x:>5.2f}"
            f" {r['sync']:>6} ({how})" + ("" if r["ingest_ok"] else "  ingest INCOMPLETE")
        )
    print(f"worst ingest or reconcile: {worst:.2f} x the floor (target 1.10 x)")


if __name__ == "__main__":
    main()

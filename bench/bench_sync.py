"""What a day of syncing costs in requests: a quiet day, a day of changes, a reconcile, and
the count probe for 0, 1, 3, 10 and 25 silently removed movies, beside a full pass.

Requests are what the partner's rate limit (1 request/s) charges, so this runs unpaced and
counts them; every figure is measured in this run against the simulator (its own process)
and a scratch database on DATABASE_URL or HOTSTAR_TEST_DATABASE_URL.

    .venv/bin/python bench/bench_sync.py [--movies 51495] [--seed 0]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import structlog

from hotstar_sync.config import load_settings
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.reconcile import reconcile
from hotstar_sync.jobs.sync import sync
from hotstar_sync.logging import configure_logging
from hotstar_sync.simulator import SimulatorConfig, serve_in_process

SERVER = os.environ.get(
    "DATABASE_URL",
    os.environ.get("HOTSTAR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


def _url(name: str) -> str:
    base, _, _ = SERVER.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def scratch(template: str | None = None) -> Iterator[str]:
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(SERVER, autocommit=True) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    try:
        yield name
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rewritten(url: str, before: dict[str, str]) -> int:
    with psycopg.connect(url) as conn:
        after = dict(conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall())
    return sum(after.get(k) != v for k, v in before.items())


def xmins(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT content_id, xmin::text FROM hotstar_movies").fetchall())


def vanished_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM hotstar_movies WHERE deleted_reason = 'vanished'"
        ).fetchone()
    return int(row[0]) if row else 0


def day(base_url: str, **counts: int) -> None:
    httpx.post(f"{base_url}/_sim/day", json=counts, timeout=60).raise_for_status()


def main() -> None:
    configure_logging()  # info and up: library debug lines (one per request) are noise here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=51_495)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    config = SimulatorConfig(movies=args.movies, seed=args.seed, rate_limit=0)
    floor = math.ceil(args.movies / 1000)
    rows: list[tuple[str, str]] = []

    def settings(base_url: str, db: str):  # type: ignore[no-untyped-def]
        return load_settings(
            api_base_url=base_url,
            database_url=_url(db),
            rate_limit_rps=0,
            reconcile_every_days=30,
        )

    with scratch() as loaded:
        upgrade(_url(loaded))
        with serve_in_process(config) as sim:
            ingest(settings(sim.base_url, loaded))
        # Every case starts from this mirror and a fresh simulator of the same seed.
        with scratch(loaded) as db, serve_in_process(config) as sim:
            before = xmins(_url(db))
            quiet = sync(settings(sim.base_url, db))
            rows.append(
                (
                    "quiet day: sync + probe",
                    f"{quiet.requests} requests, {rewritten(_url(db), before)} rows rewritten",
                )
            )
            day(
                sim.base_url,
                adds=300,
                back_catalogue_adds=100,
                updates=500,
                unpublish=50,
                republish=50,
            )
            busy = sync(settings(sim.base_url, db))
            c = busy.counts
            rows.append(
                (
                    "a day of 1,000 changes: sync + probe",
                    f"{busy.requests} requests ({c.added} added, {c.updated} updated)",
                )
            )
            full = reconcile(settings(sim.base_url, db))
            rows.append(
                (
                    "reconcile",
                    f"{full.requests} requests = "
                    f"{full.requests / floor:.3f} x ceil(N/1000) = {floor}",
                )
            )
        probe_rows = []
        for vanished in (0, 1, 3, 10, 25):
            # The same removals twice: the daily sync with its count probe on one copy of
            # the mirror, a plain reconcile (the pass the probe replaces) on another.
            with scratch(loaded) as db, serve_in_process(config) as sim:
                if vanished:
                    day(sim.base_url, removals=vanished)
                report = sync(settings(sim.base_url, db))
                spent = report.requests + (report.reconcile.requests if report.reconcile else 0)
                how = "reconcile" if report.reconcile else "probe"
                found = vanished_rows(_url(db))
            with scratch(loaded) as db, serve_in_process(config) as sim:
                if vanished:
                    day(sim.base_url, removals=vanished)
                full_pass = reconcile(settings(sim.base_url, db)).requests
            probe_rows.append((vanished, spent, full_pass, how, found))
    print(f"\n{args.movies:,} movies; floor ceil(N/1000) = {floor}\n")
    for name, figure in rows:
        print(f"  {name:<42} {figure}")
    print(
        f"\n  {'vanished':>8}  {'sync + probe (+ fallback)':>26}  {'sync + reconcile':>16}"
        "  found by"
    )
    for vanished, spent, full_pass, how, found in probe_rows:
        print(f"  {vanished:>8}  {spent:>26}  {1 + full_pass:>16}  {how} ({found} of {vanished})")


if __name__ == "__main__":
    main()

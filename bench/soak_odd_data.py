"""A soak of odd data: 50 simulated days of `sync` over a catalogue full of odd items, with
random changes and odd answers switched on and off, a reconcile every 7 days.

Each day makes a random day of changes (additions, updates, unpublished and republished
items, silent removals, items turning malformed, an item taking another's numeric id),
forces some odd answers on that day's requests (an envelope with `items: null` or `{}`, a
totalResults of 10^12, a 503, a dropped body), on one day in five lets the changes land one
by one over two seconds while the sync reads (index lag), runs `hotstar-sync sync` (with
`--reconcile` every 7th day) through the CLI, and prints whether the mirror then equals the
truth (after a lag day: how many rows differ because their change landed after the sync
read, which the next day must catch up with), the exit code and the requests. The
catalogue holds every quirk of `simulator.quirks` from the start, under one reading of
where the index files odd values (`--reading`). Not part of the test suite: it takes a few
minutes unpaced.

    .venv/bin/python bench/soak_odd_data.py [--days 50] [--movies 6000] [--reading date]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import random
import time

import psycopg
import structlog
from typer.testing import CliRunner

from bench_sync import SERVER, _url, scratch
from hotstar_sync.cli import app
from hotstar_sync.db.migrate import upgrade
from hotstar_sync.simulator import SimulatorConfig, Truth, serve_in_thread
from hotstar_sync.simulator.config import QuirkSettings

ODD_ANSWERS = ("items_null", "items_object", "absurd_total", "error", "drop")


def differences(url: str, truth: Truth) -> list[str]:
    """How the mirror differs from what the API serves: missing, stale, wrongly live or
    deleted, or served-no-more rows still live (a few words each; [] when exact)."""
    with psycopg.connect(url) as conn:
        rows = {
            cid: (raw, deleted)
            for cid, raw, deleted in conn.execute(
                "SELECT content_id, raw_response, deleted_reason FROM hotstar_movies"
            ).fetchall()
        }
    now, found = time.time(), []
    clashing = {cid for ids in truth.id_clashes.values() for cid in ids[1:]}
    for cid, t in truth.items.items():
        if t.malformed is not None or cid in clashing:
            continue
        if cid not in rows:
            found.append(f"{cid} missing")
            continue
        raw, deleted = rows[cid]
        expected = (
            "unpublished"
            if t.status == "UNPUBLISHED"
            else "expired"
            if 0 < t.end_date < now
            else None
        )
        if raw != t.item:
            found.append(f"{cid} stale")
        elif deleted != expected:
            found.append(f"{cid} {deleted} != {expected}")
    for cid in set(rows) - set(truth.items):
        if rows[cid][1] != "vanished":
            found.append(f"{cid} gone but {rows[cid][1] or 'live'}")
    return found


def requests_of(url: str, since: int) -> tuple[int, list[str]]:
    with psycopg.connect(url) as conn:
        runs = conn.execute(
            "SELECT coalesce(api_requests_made, 0), sync_type || ':' || status"
            " FROM hotstar_sync_log WHERE id > %s ORDER BY id",
            (since,),
        ).fetchall()
    return sum(r[0] for r in runs), [r[1] for r in runs]


def last_run(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM hotstar_sync_log").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=50)
    parser.add_argument("--movies", type=int, default=6_000)
    parser.add_argument("--reading", default="date", choices=["zero", "date", "excluded"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    rng = random.Random(args.seed)
    quirks = QuirkSettings(
        odd_start_dates=6,
        odd_update_dates=6,
        odd_premium=6,
        odd_reading=args.reading,  # type: ignore[arg-type]
        keyless=4,
        duplicate_keys=3,
        unparseable=4,
        non_objects=3,
    )
    config = SimulatorConfig(
        movies=args.movies, seed=args.seed, rate_limit=0, cluster_size=1_500, quirks=quirks
    )
    with scratch() as name, serve_in_thread(config) as sim:
        url = _url(name)
        upgrade(url)
        env = {
            "DATABASE_URL": url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "0",
            "HOTSTAR_CIRCUIT_BREAKER_SECONDS": "0.2",
            "HOTSTAR_MAX_RETRIES": "3",
        }
        print(f"soak: {args.days} days, {args.movies:,} movies, odd values read as {args.reading}")
        print(f"database {SERVER.rpartition('/')[0]}/{name}")
        print(
            "day  command           exit  requests  runs                                    mirror"
        )
        exact_days, lag_days, exits = 0, 0, {}
        for number in range(args.days + 1):
            command = ["ingest", "--type", "movie"]
            lag = number > 0 and rng.random() < 0.2
            sim.catalog.config = dataclasses.replace(
                config, index_lag_spread_seconds=2.0 if lag else 0.0
            )
            if number:
                day = sim.catalog.apply_day(
                    adds=rng.randint(0, 40),
                    back_catalogue_adds=rng.randint(0, 5),
                    updates=rng.randint(0, 60),
                    unpublish=rng.randint(0, 8),
                    republish=rng.randint(0, 4),
                    removals=rng.choice([0, 0, 1, 3, 10]),
                    malformed=rng.choice([0, 0, 1]),
                    shared_ids=rng.choice([0, 0, 0, 1]),
                )
                command = ["sync", "--type", "movie"]
                if number % 7 == 0:
                    command.append("--reconcile")
                for kind in rng.sample(ODD_ANSWERS, rng.randint(0, 2)):
                    sim.faults.fail_next(1, kind)  # type: ignore[arg-type]
            before = last_run(url)
            result = CliRunner().invoke(app, command, env=env)
            requests, runs = requests_of(url, before)
            if lag:  # what landed after the sync read is the next day's
                time.sleep(max(0.0, day.visible_at - time.time()))
            wrong = differences(url, sim.catalog.truth())
            late = len(wrong) if lag else 0
            exact_days += not wrong
            lag_days += lag
            exits[result.exit_code] = exits.get(result.exit_code, 0) + 1
            verdict = "exact" if not wrong else f"{len(wrong)} off, e.g. {', '.join(wrong[:2])}"
            if lag:
                verdict = f"lag: {late} landed after the sync read" if late else "lag: exact"
            print(
                f"{number:3}  {' '.join(command[:1] + command[3:]):16}  {result.exit_code:4}"
                f"  {requests:8}  {' '.join(runs):28}  {verdict}"
            )
        print(
            f"{exact_days} of {args.days + 1} days exact ({lag_days} lag days); exit codes "
            + ", ".join(f"{code}: {n}" for code, n in sorted(exits.items()))
        )


if __name__ == "__main__":
    main()

"""`hotstar-sync simulate`: serve the local partner API simulator."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, cast

import typer

from hotstar_sync.cli._app import app, handle_errors
from hotstar_sync.errors import ConfigError

if TYPE_CHECKING:
    from hotstar_sync.simulator.config import Bounds, Reading

# The simulator (uvicorn, Starlette, its catalogue code) is imported when this command runs,
# not by every `hotstar-sync` process: a nightly sync has no use for its memory.


def _print_ready(base_url: str) -> None:
    from hotstar_sync.simulator.runner import READY

    # Callers (benchmarks, scripts) wait for exactly this line on stdout.
    print(f"{READY}{base_url}", flush=True)


@app.command()
@handle_errors
def simulate(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8765, help="Port to listen on; 0 picks a free one."),
    movies: int = typer.Option(51495, help="Movies in the catalogue."),
    shows: int = typer.Option(6111, help="Shows (each with 1 to 20 seasons)."),
    episodes: int = typer.Option(686432, help="Episodes, shared among the shows' seasons."),
    matches: int = typer.Option(175031, help="Matches (sports VoD and live clips)."),
    channels: int = typer.Option(40, help="Channels."),
    eager: bool = typer.Option(
        False, "--eager", help="Make every type's items before serving, not at its first search."
    ),
    seed: int = typer.Option(0, help="The catalogue is the same for the same seed (and day)."),
    rate_limit: float = typer.Option(
        1.0, help="Requests per second per partner (burst 1); 0 turns the limit off."
    ),
    bounds: str = typer.Option(
        "inclusive",
        help="How from*/to* filters treat their bounds: inclusive, half-open, exclusive.",
    ),
    cluster_size: int = typer.Option(3000, help="Movies sharing one startDate second."),
    more_clusters: str = typer.Option(
        "",
        help="Sizes of further bulk imports of movies, comma-separated, each at a second of "
        "its own (a day apart), e.g. 2000,9000,5000.",
    ),
    cluster_update_seconds: int = typer.Option(
        0, help="How many updateDate seconds each cluster's items share (0: their own)."
    ),
    index_lag_seconds: float = typer.Option(
        0.0, "--index-lag-seconds", "--index-lag", help="Delay before a change is searchable."
    ),
    index_lag_spread_seconds: float = typer.Option(
        0.0,
        "--index-lag-spread-seconds",
        "--index-lag-spread",
        help="Each change of a day is searchable up to this much later again, one by one.",
    ),
    season_lag_seconds: float = typer.Option(
        0.0, help="Further delay before the seasons a show's change brings are searchable."
    ),
    malformed: int = typer.Option(
        5, help="Items of each type that break the contract (null title, ...)."
    ),
    duplicate_ids: int = typer.Option(
        0, help="Pairs of items of each type sharing a numeric id under distinct contentIds."
    ),
    odd_start_dates: int = typer.Option(
        0, help="Items whose startDate is not a number (a date string, null, ...)."
    ),
    odd_update_dates: int = typer.Option(0, help="Items whose updateDate is not a number."),
    odd_premium: int = typer.Option(0, help="Items whose premium is not a boolean."),
    odd_reading: str = typer.Option(
        "zero",
        help="Where the index files such values: zero (as 0/false), date (read as what "
        "they say, else nowhere), excluded (under no filter range).",
    ),
    keyless: int = typer.Option(0, help="Items without a contentId (absent or null)."),
    duplicate_keys: int = typer.Option(
        0, help="Extra items served under an existing contentId with an id of their own."
    ),
    unparseable: int = typer.Option(
        0, help="Items no JSON parser accepts (lone surrogate, bad UTF-8, deep nesting)."
    ),
    non_objects: int = typer.Option(0, help="Items that are a string, a number, null or a list."),
    error_rate: float = typer.Option(0.0, help="Share of search requests answered 503."),
    slow_rate: float = typer.Option(0.0, help="Share of search requests answered slowly."),
    slow_seconds: float = typer.Option(6.0, help="Delay of a slow answer."),
    drop_rate: float = typer.Option(0.0, help="Share of answers cut off in mid-body."),
    churn_rate: float = typer.Option(
        0.0, help="Share of search requests that first add and remove items."
    ),
    churn_items: int = typer.Option(5, help="Items added and removed by one churn."),
    fault_seed: int | None = typer.Option(None, help="Seed of the fault draws (default: --seed)."),
    reference_time: int | None = typer.Option(
        None, help="Epoch second the catalogue's dates are based on (default: today 00:00 UTC)."
    ),
) -> None:
    """Serve a simulated partner catalog API (the search paths of every content type:
    /movie/search, /show/search, /season/search, /episode/search, /match/search,
    /channel/list; admin paths under /_sim/).

    Partner id and secret come from HOTSTAR_PARTNER_ID and HOTSTAR_AKAMAI_SECRET, with the
    built-in demo credentials when unset. Prints one line, `Simulator ready at <URL>`, once
    serving; stops on Ctrl-C or SIGTERM. See docs/simulator.md.
    """
    from hotstar_sync.simulator import FaultSettings, SimulatorConfig, serve_forever
    from hotstar_sync.simulator.config import QuirkSettings

    faults = FaultSettings(
        error_rate=error_rate,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        drop_rate=drop_rate,
        churn_rate=churn_rate,
        churn_items=churn_items,
    )
    quirks = QuirkSettings(
        odd_start_dates=odd_start_dates,
        odd_update_dates=odd_update_dates,
        odd_premium=odd_premium,
        odd_reading=cast("Reading", odd_reading),  # QuirkSettings refuses any other value
        keyless=keyless,
        duplicate_keys=duplicate_keys,
        unparseable=unparseable,
        non_objects=non_objects,
    )
    config = SimulatorConfig(
        movies=movies,
        shows=shows,
        episodes=episodes,
        matches=matches,
        channels=channels,
        eager=eager,
        seed=seed,
        rate_limit=rate_limit,
        bounds=cast("Bounds", bounds),  # SimulatorConfig refuses any other value
        cluster_size=cluster_size,
        more_clusters=_sizes(more_clusters),
        cluster_update_seconds=cluster_update_seconds,
        index_lag_seconds=index_lag_seconds,
        index_lag_spread_seconds=index_lag_spread_seconds,
        season_lag_seconds=season_lag_seconds,
        malformed=malformed,
        duplicate_ids=duplicate_ids,
        faults=faults,
        quirks=quirks,
        fault_seed=fault_seed,
    )
    if reference_time is not None:
        config = dataclasses.replace(config, reference_time=reference_time)
    serve_forever(config, _print_ready, host=host, port=port)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"--more-clusters: {text!r} is not a list of sizes such as 2000,9000"
        ) from None

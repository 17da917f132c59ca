"""`hotstar-sync ingest` and `hotstar-sync demo`."""

from __future__ import annotations

import typer

from hotstar_sync.cli._app import app, err_console, handle_errors, settings
from hotstar_sync.cli._progress import progress_display
from hotstar_sync.cli._types import label, resolve, type_option
from hotstar_sync.config import Settings
from hotstar_sync.db.connect import database_url
from hotstar_sync.errors import IncompletePassError
from hotstar_sync.jobs import ingest as ingest_job
from hotstar_sync.model.content import ContentType


def run_ingest(cfg: Settings, url: str, kinds: list[ContentType]) -> list[ingest_job.IngestReport]:
    with progress_display(f"ingest {label(kinds)}") as progress:
        if len(kinds) > 1:
            progress.on_total = lambda total: None  # one bar for all: no single total
        return ingest_job.ingest_types(cfg, kinds, progress=progress, url=url)


def print_report(report: ingest_job.IngestReport) -> None:
    c = report.counts
    resumed = " (resumed)" if report.resumed else ""
    typer.echo(
        f"{report.content_type} run {report.run_id}{resumed}: {report.status} in "
        f"{report.seconds:.1f} s — "
        f"{report.items_fetched:,} items fetched, {c.added:,} added, {c.updated:,} updated, "
        f"{c.unchanged:,} unchanged, {c.quarantined:,} quarantined, "
        f"{report.requests:,} API requests"
    )


@app.command()
@handle_errors
def ingest(kind: str = type_option()) -> None:
    """Load every item the API returns (the first full load), one run per type; resumes an
    unfinished run.

    Exit 5 when a pass could not verify every window (the run is 'incomplete').
    """
    kinds = resolve(kind)
    cfg = settings()
    reports = run_ingest(cfg, database_url(cfg), kinds)
    for report in reports:
        print_report(report)
    check_complete(reports)


def check_complete(reports: list[ingest_job.IngestReport]) -> None:
    for report in reports:
        if report.status != "completed":
            raise IncompletePassError(
                f"run {report.run_id} is incomplete: {len(report.unverified)} window(s) not "
                f"verified: {', '.join(report.unverified[:5])}",
                hint="rerun `hotstar-sync ingest`; the gaps are listed in the sync log",
            )


#: The demo's other catalogues: small, so that it stays about a minute (the contract's
#: 686k episodes and 175k matches would take far longer than the movies).
DEMO_SHOWS, DEMO_EPISODES, DEMO_MATCHES, DEMO_CHANNELS = 300, 6_000, 4_000, 40


@app.command()
@handle_errors
def demo(
    movies: int = typer.Option(51495, help="Movies in the simulated catalogue."),
    seed: int = typer.Option(0, help="Seed of the simulated catalogue."),
) -> None:
    """Start the simulator, load its whole catalogue into the source database, and explain.

    The movies at the contract's count; shows (and their seasons), episodes, matches and
    channels in small numbers. Uses DATABASE_URL when set, else the embedded PostgreSQL in
    HOTSTAR_DATA_DIR. The simulator is not rate-limited here, to show the tool's own speed.
    """
    # Imported here: the simulator is a demo and test tool, not part of a sync's code path.
    from hotstar_sync.simulator import SimulatorConfig, serve_in_thread

    base = settings()
    url = database_url(base)
    err_console.print(
        f"Starting the partner API simulator with {movies:,} movies, {DEMO_SHOWS} shows, "
        f"{DEMO_EPISODES:,} episodes, {DEMO_MATCHES:,} matches and {DEMO_CHANNELS} channels…"
    )
    config = SimulatorConfig(
        movies=movies,
        shows=DEMO_SHOWS,
        episodes=DEMO_EPISODES,
        matches=DEMO_MATCHES,
        channels=DEMO_CHANNELS,
        seed=seed,
        rate_limit=0,
    )
    with serve_in_thread(config) as sim:
        cfg = base.model_copy(
            update={
                "api_base_url": sim.base_url,
                "rate_limit_rps": 0,
                "partner_id": None,
                "akamai_secret": None,
                "akamai_secret_file": None,
            }
        )
        from hotstar_sync.db import migrate  # Alembic: the demo sets up its own schema

        migrate.upgrade(url)
        reports = run_ingest(cfg, url, resolve("all"))
    for report in reports:
        print_report(report)
    where = "DATABASE_URL" if base.database_url else f"the embedded PostgreSQL in {base.data_dir}"
    tables = ", ".join(
        f"{kind.table} ({r.counts.added:,} added)"
        for kind, r in zip(resolve("all"), reports, strict=True)
    )
    # The embedded server listens on a socket in the data dir only while a command runs.
    psql = (
        ""
        if base.database_url
        else "To query the tables with psql, set DATABASE_URL to a PostgreSQL of your own and "
        "run the demo again.\n"
    )
    items = sum(r.items_fetched for r in reports)
    seconds = sum(r.seconds for r in reports)
    typer.echo(
        f"""
The mirror is in {where}: tables {tables};
the runs in hotstar_sync_log (one per type), every insert in hotstar_change_log,
and {sum(r.counts.quarantined for r in reports)} malformed item(s) in hotstar_quarantine.
Items per second: {items / max(seconds, 1e-9):,.0f}.

Next, on this data:
  hotstar-sync status               the runs and the mirror's size (--json for scripts)
  hotstar-sync serve                the status page at http://127.0.0.1:8000/ (Ctrl-C stops)
  hotstar-sync changes --since 0 --type delete   the change log: items stored deleted, why
  hotstar-sync health               is the mirror kept up to date? (the checks a cron runs)
Against the API, as in production:
  hotstar-sync simulate             the simulator on :8765, at the real API's 1 request/s
  hotstar-sync ingest / sync        load from HOTSTAR_API_BASE_URL, then keep the mirror exact
{psql}See README.md for settings (DATABASE_URL, HOTSTAR_PARTNER_ID, HOTSTAR_AKAMAI_SECRET, …)."""
    )
    check_complete(reports)

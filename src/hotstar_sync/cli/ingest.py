"""`hotstar-sync ingest` and `hotstar-sync demo`."""

from __future__ import annotations

import typer

from hotstar_sync.cli._app import app, err_console, handle_errors, settings
from hotstar_sync.cli._progress import progress_display
from hotstar_sync.config import Settings
from hotstar_sync.db import migrate
from hotstar_sync.db.connect import database_url
from hotstar_sync.errors import IncompletePassError
from hotstar_sync.jobs import ingest as ingest_job


def run_ingest(cfg: Settings, url: str) -> ingest_job.IngestReport:
    with progress_display("ingest movies") as progress:
        return ingest_job.ingest(cfg, progress=progress, url=url)


def print_report(report: ingest_job.IngestReport) -> None:
    c = report.counts
    resumed = " (resumed)" if report.resumed else ""
    typer.echo(
        f"run {report.run_id}{resumed}: {report.status} in {report.seconds:.1f} s — "
        f"{report.items_fetched:,} items fetched, {c.added:,} added, {c.updated:,} updated, "
        f"{c.unchanged:,} unchanged, {c.quarantined:,} quarantined, "
        f"{report.requests:,} API requests"
    )


@app.command()
@handle_errors
def ingest() -> None:
    """Load every movie the API returns (the first full load); resumes an unfinished run.

    Exit 5 when the pass could not verify every window (the run is 'incomplete').
    """
    cfg = settings()
    report = run_ingest(cfg, database_url(cfg))
    print_report(report)
    if report.status != "completed":
        raise IncompletePassError(
            f"run {report.run_id} is incomplete: {len(report.unverified)} window(s) not "
            f"verified: {', '.join(report.unverified[:5])}",
            hint="rerun `hotstar-sync ingest`; the gaps are listed in the sync log",
        )


@app.command()
@handle_errors
def demo(
    movies: int = typer.Option(51495, help="Movies in the simulated catalogue."),
    seed: int = typer.Option(0, help="Seed of the simulated catalogue."),
) -> None:
    """Start the simulator, load its whole catalogue into the source database, and explain.

    Uses DATABASE_URL when set, else the embedded PostgreSQL in HOTSTAR_DATA_DIR. The
    simulator is not rate-limited here, to show the tool's own speed.
    """
    # Imported here: the simulator is a demo and test tool, not part of a sync's code path.
    from hotstar_sync.simulator import SimulatorConfig, serve_in_thread

    base = settings()
    url = database_url(base)
    err_console.print(f"Starting the partner API simulator with {movies:,} movies…")
    with serve_in_thread(SimulatorConfig(movies=movies, seed=seed, rate_limit=0)) as sim:
        cfg = base.model_copy(
            update={
                "api_base_url": sim.base_url,
                "rate_limit_rps": 0,
                "partner_id": None,
                "akamai_secret": None,
                "akamai_secret_file": None,
            }
        )
        migrate.upgrade(url)
        report = run_ingest(cfg, url)
    print_report(report)
    where = "DATABASE_URL" if base.database_url else f"the embedded PostgreSQL in {base.data_dir}"
    typer.echo(
        f"""
The mirror is in {where}: table hotstar_movies ({report.counts.added:,} movies added),
the run in hotstar_sync_log (run {report.run_id}), every insert in hotstar_change_log,
and {report.counts.quarantined} malformed item(s) in hotstar_quarantine.
Items per second: {report.items_fetched / max(report.seconds, 1e-9):,.0f}.

Next:
  hotstar-sync simulate             serve the simulator on :8765 (rate-limited like the real API)
  hotstar-sync ingest               load from HOTSTAR_API_BASE_URL (the simulator by default)
  hotstar-sync db current           the schema's revision
See README.md for settings (DATABASE_URL, HOTSTAR_PARTNER_ID, HOTSTAR_AKAMAI_SECRET, …)."""
    )

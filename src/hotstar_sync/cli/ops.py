"""`hotstar-sync schedule`, `status`, `health` and `serve` (docs/operations.md).

The libraries behind them (APScheduler, apprise, prometheus_client, uvicorn) are imported
inside the commands: every other command starts without paying for them.
"""

from __future__ import annotations

import signal
import socket
from datetime import UTC
from typing import Any

import orjson
import structlog
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from hotstar_sync.cli._app import app, err_console, handle_errors, print_whole, settings
from hotstar_sync.config import Settings
from hotstar_sync.db import schema
from hotstar_sync.db.connect import database_url
from hotstar_sync.errors import ConfigError, HotstarSyncError
from hotstar_sync.ops import health as health_rules
from hotstar_sync.ops import read_only
from hotstar_sync.ops import status as status_queries

log = structlog.get_logger(__name__)


def _limits(cfg: Settings) -> health_rules.Limits:
    return health_rules.Limits.for_reconcile_every(
        cfg.reconcile_every_days, cfg.deletions_unchecked_days
    )


@app.command()
@handle_errors
def schedule() -> None:
    """Run `sync` on HOTSTAR_SYNC_CRON in HOTSTAR_TIMEZONE until SIGTERM or Ctrl-C.

    One run at a time (a start while one runs is skipped and logged); a log line for every
    run; on SIGTERM the run in progress finishes first.
    """
    from hotstar_sync.ops.scheduler import Scheduler, cron_trigger

    cfg = settings()
    trigger = cron_trigger(cfg.sync_cron, cfg.timezone)
    url = database_url(cfg)
    schema.require_head(url)
    # Imported here: the scheduler takes any callable, and only this command runs the sync.
    from hotstar_sync.jobs.sync import sync_types
    from hotstar_sync.model.content import CONTENT_TYPES

    def job() -> object:
        # Every type the database has loaded, like `hotstar-sync sync --type all`; the
        # reports make the scheduler's "finished" line (status and counts of each run).
        return sync_types(cfg, list(CONTENT_TYPES.values()), url=url, only_ingested=True)

    log.info("scheduler starting", cron=cfg.sync_cron, timezone=cfg.timezone)
    Scheduler(job, trigger).run_until_stopped()


def _count(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def _runs_table(runs: list[dict[str, Any]]) -> Table:
    # No vertical rules, short headers: it fits 80 columns (cron mail, pipes).
    table = Table(
        title="Recent runs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=0
    )
    # Kept whole when 80 columns are too few (`changes --since` takes it); others shrink.
    width = max((len(str(run["id"])) for run in runs), default=2)
    table.add_column("id", justify="right", no_wrap=True, min_width=width)
    table.add_column("type", no_wrap=True)  # the content type
    table.add_column("sync", no_wrap=True, min_width=5)  # initial, daily, reconcile
    table.add_column("status", no_wrap=True, min_width=6)
    table.add_column("started UTC", no_wrap=True)
    # Short headers for the counts: added, updated, deleted, restored, API requests, and the
    # type's live rows in the mirror after the run.
    for name in ("secs", "added", "upd", "del", "rest", "req", "live"):
        table.add_column(name, justify="right", no_wrap=True)
    colour = {"completed": "green", "running": "cyan", "failed": "red"}
    for run in runs:
        table.add_row(
            str(run["id"]),
            run["content_type"],
            run["sync_type"],
            f"[{colour.get(run['status'], 'yellow')}]{run['status']}[/]",
            run["started_at"].astimezone(UTC).strftime("%m-%d %H:%M"),
            _count(run["duration_seconds"]),
            _count(run["items_added"]),
            _count(run["items_updated"]),
            _count(run["items_deleted"]),
            _count(run["items_restored"]),
            _count(run["api_requests_made"]),
            _count(run["mirror_live"]),
        )
    return table


def _reasons(runs: list[dict[str, Any]]) -> list[str]:
    """Why each run shown that did not complete (the last of its errors), and the stored
    rows each left behind the API; one line each."""
    lines = []
    for run in runs:
        if run["status"] != "completed" and run["reason"]:
            lines.append(f"run {run['id']} {run['status']}: {run['reason']}")
        if run.get("stale_rows"):
            lines.append(
                f"run {run['id']}: {run['stale_rows']:,} stored row(s) kept their older "
                "version: the API's answer for them was quarantined"
            )
    return lines


def _stale_lines(stale: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"{kind}: {found['rows']:,} stored row(s) behind the API, their latest answer "
        f"quarantined (the oldest since {health_rules.at(found['since'])}); see "
        "hotstar_quarantine"
        for kind, found in stale.items()
    ]


def _daily_table(days: list[dict[str, Any]]) -> Table:
    table = Table(title="Completed daily syncs per day", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("date")
    for name in ("syncs", "added", "updated", "deleted", "avg seconds"):
        table.add_column(name, justify="right")
    for day in days:
        table.add_row(
            day["date"].isoformat(),
            _count(day["syncs"]),
            _count(day["total_added"]),
            _count(day["total_updated"]),
            _count(day["total_deleted"]),
            f"{day['avg_duration']:.1f}" if day["avg_duration"] is not None else "",
        )
    return table


@app.command()
@handle_errors
def status(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="How many recent runs."),
) -> None:
    """Recent runs and the daily statistics (the seed's monitoring queries)."""
    cfg = settings()
    with read_only(database_url(cfg)) as conn:
        runs = status_queries.runs(conn, limit)
        days = status_queries.daily_stats(conn)
        mirror = status_queries.mirror_size(conn)
        stale = status_queries.stale_rows(conn)
    if as_json:
        data = {"runs": runs, "daily": days, "mirror": mirror, "stale": stale}
        typer.echo(orjson.dumps(status_queries.to_json(data), option=orjson.OPT_INDENT_2))
        return
    console = Console(highlight=False)
    console.print(
        f"mirror: {mirror['live']:,} live rows, {mirror['deleted']:,} soft-deleted", markup=False
    )
    for line in _stale_lines(stale):
        console.print(line, markup=False, soft_wrap=True)
    if runs:
        print_whole(console, _runs_table(runs))
        for line in _reasons(runs):
            console.print(line, markup=False, soft_wrap=True)
    else:
        console.print("no runs yet", markup=False)
    if days:
        print_whole(console, _daily_table(days))


def _send_alert(cfg: Settings, report: health_rules.HealthReport) -> None:
    from hotstar_sync.ops import alerts

    alert = alerts.build_alert(report, alerts.secrets_of(cfg))
    if alert is None:
        return
    if not cfg.alert_url_list:
        err_console.print("alert: HOTSTAR_ALERT_URLS is empty; nothing sent", markup=False)
        return
    delivery = alerts.send(alert, cfg.alert_url_list)
    if delivery.invalid:
        err_console.print(
            f"alert: {delivery.invalid} of the HOTSTAR_ALERT_URLS is not a valid apprise URL",
            markup=False,
        )
    if not delivery.sent:
        err_console.print(
            f"alert: delivery failed ({delivery.destinations} destination(s) tried)", markup=False
        )


@app.command()
def health(
    alert: bool = typer.Option(
        False, "--alert", help="Also send the findings (unless OK) to HOTSTAR_ALERT_URLS."
    ),
) -> None:
    """Check the sync log; one line per finding. Exit 0 OK, 1 WARNING, 2 CRITICAL,
    3 UNKNOWN (the database could not be read): a Nagios plugin."""
    # Not @handle_errors: every outcome, a bad setting too, maps to a Nagios code.
    try:
        cfg = settings()
        report = health_rules.check(database_url(cfg), _limits(cfg))
    except HotstarSyncError as exc:
        cfg, report = None, health_rules.unknown(exc.message)
    for line in report.lines():
        typer.echo(line)
    if alert:
        if cfg is None:
            err_console.print("alert: the settings could not be read; nothing sent", markup=False)
        else:
            _send_alert(cfg, report)
    raise typer.Exit(int(report.level))


@app.command()
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on; 0 picks a free one."),
) -> None:
    """Serve the status page, /healthz, /metrics and the JSON API (read-only) until Ctrl-C."""
    import uvicorn

    from hotstar_sync.ops.web import create_app

    cfg = settings()
    url = database_url(cfg)
    # Bound here, not by uvicorn: a port in use is then one line and exit 2, not uvicorn's
    # log line and its own exit code 3 (ours for the job lock).
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving beyond this machine: anyone who can reach it reads the sync log")
    bound = sock.getsockname()[1]
    err_console.print(f"Serving the status page at http://{host}:{bound}/", markup=False)
    config = uvicorn.Config(create_app(url, _limits(cfg)), log_level="warning")
    # uvicorn stops gracefully on SIGTERM, then raises it again: by then the default
    # action (the process ends by the signal, a clean stop to a service manager), not
    # main()'s "terminated" error.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    uvicorn.Server(config).run(sockets=[sock])

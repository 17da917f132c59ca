"""`hotstar-sync sync`, `reconcile` and `changes`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
import typer
from rich.console import Console
from rich.table import Table

from hotstar_sync.cli._app import app, err_console, handle_errors, print_whole, settings
from hotstar_sync.cli._progress import progress_display
from hotstar_sync.cli._types import ALL, label, resolve, type_option
from hotstar_sync.db.changes import CHANGES, changes_since
from hotstar_sync.db.connect import connect, database_url
from hotstar_sync.errors import (
    ConfigError,
    DeletionGuardError,
    DriftError,
    HotstarSyncError,
    IncompletePassError,
)
from hotstar_sync.jobs.probe import verify_types
from hotstar_sync.jobs.reconcile import ReconcileReport, reconcile_types
from hotstar_sync.jobs.sync import SyncReport, sync_types


def _report_reconcile(report: ReconcileReport) -> list[HotstarSyncError]:
    c = report.counts
    typer.echo(
        f"{report.content_type} reconcile run {report.run_id}: {report.status} in "
        f"{report.seconds:.1f} s — "
        f"{c.added:,} added, {c.updated:,} updated, {report.vanished:,} vanished, "
        f"{report.expired:,} expired, {report.requests:,} API requests"
    )
    if report.status == "refused" and report.held_back is not None:
        return [DeletionGuardError(f"reconcile run {report.run_id}: {report.held_back}")]
    if report.status == "refused":
        return [
            DeletionGuardError(
                f"reconcile run {report.run_id} would soft-delete {report.would_vanish:,} of "
                f"{report.live_rows:,} live rows as vanished, over "
                "HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted"
            )
        ]
    if report.status == "incomplete":
        return [
            IncompletePassError(
                f"reconcile run {report.run_id} is incomplete ({len(report.unverified)} "
                "window(s) not verified); nothing was deleted",
                hint="run `hotstar-sync reconcile` again later",
            )
        ]
    return []


def _raise_worst(errors: list[HotstarSyncError]) -> None:
    """After every report is printed: each error's line, the deletion guard's (exit 4: a
    person must look) before an incomplete pass's (exit 5: the next run retries), and the
    exit code of the first."""
    if not errors:
        return
    errors = sorted(errors, key=lambda e: not isinstance(e, DeletionGuardError))
    for later in errors[1:]:
        err_console.print(f"error: {later.message}", markup=False)
    raise errors[0]


@contextmanager
def _verdicts_first(errors: list[HotstarSyncError]) -> Iterator[None]:
    """When the block fails, print the verdicts its earlier types left in `errors` (each
    type is reported as it is done), then let the failure's own line follow."""
    try:
        yield
    except HotstarSyncError:
        for error in errors:
            err_console.print(f"error: {error.message}", markup=False)
        raise


@app.command()
@handle_errors
def sync(
    no_reconcile: bool = typer.Option(False, "--no-reconcile", help="Never reconcile in this run."),
    reconcile: bool = typer.Option(False, "--reconcile", help="Reconcile even if none is due."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Apply deletions the deletion guard would refuse (the count probe's, the "
        "parents' walks', a reconcile's).",
    ),
    kind: str = type_option(),
) -> None:
    """The daily sync: changes since the last run, then a reconcile when one is due
    (HOTSTAR_RECONCILE_EVERY_DAYS); one run per type. Exit 4 when the deletion guard
    refused, 5 when a pass was incomplete."""
    if no_reconcile and reconcile:
        raise typer.BadParameter("--reconcile and --no-reconcile exclude each other")
    kinds = resolve(kind)
    cfg = settings()
    errors: list[HotstarSyncError] = []
    with progress_display(f"sync {label(kinds)}") as progress, _verdicts_first(errors):
        sync_types(
            cfg,
            kinds,
            reconcile=False if no_reconcile else (True if reconcile else None),
            force=force,
            progress=progress,
            url=database_url(cfg),
            only_ingested=kind == ALL,
            # Each type's lines as soon as it is done: a later type may still fail.
            on_report=lambda report: errors.extend(_report_sync(report)),
        )
    _raise_worst(errors)


def _report_sync(report: SyncReport) -> list[HotstarSyncError]:
    c = report.counts
    parents = "" if report.parents is None else f"{report.parents:,} parent(s) asked: "
    # A type searched per parent polls no updateDate window: its parents' changes say.
    window = (
        f"updateDate {report.from_update_date}..{report.to_update_date}: "
        if report.parents is None
        else ""
    )
    typer.echo(
        f"{report.content_type} sync run {report.run_id}: {report.status} in "
        f"{report.seconds:.1f} s — {parents}{window}{c.added:,} added, "
        f"{c.updated:,} updated ({c.deleted:,} deleted, {c.restored:,} restored), "
        + ("" if report.parents is None else f"{report.vanished:,} vanished, ")
        + f"{report.expired:,} expired, {report.unexpired:,} unexpired, "
        f"{c.quarantined:,} quarantined, {report.requests:,} API requests"
    )
    if report.probe is not None:
        p = report.probe
        typer.echo(
            f"count probe: API {p.api_total:,} vs mirror {p.mirror_total:,}; "
            f"{p.requests:,} requests, {len(p.probed)} window(s) probed, {p.missing:,} missing "
            f"item(s) stored, {p.vanished:,} vanished"
            + (
                "; the index was still settling: deletions deferred to the next run"
                if p.deferred and p.settling
                else "; a walk did not verify: its deletions deferred to the next run"
                if p.deferred
                else ""
                if not p.fell_back
                else "; too costly, reconciled instead"
                if report.reconcile is not None
                else "; too costly for a probe: run `hotstar-sync reconcile`"
            )
        )
    errors: list[HotstarSyncError] = []
    if report.status == "refused" and report.held_back is not None:
        errors.append(DeletionGuardError(f"sync run {report.run_id}: {report.held_back}"))
    elif report.status == "refused":
        if report.probe is not None:
            what, would = "the count probe", report.probe.would_vanish
            live = report.probe.live_rows
        else:
            what, would, live = "the parents' walks", report.would_vanish, report.live_rows
        errors.append(
            DeletionGuardError(
                f"sync run {report.run_id}: {what} would soft-delete {would:,} of {live:,} "
                "live rows as vanished, over HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted"
            )
        )
    elif report.status != "completed":
        errors.append(
            IncompletePassError(
                f"sync run {report.run_id} is incomplete; the next sync covers the same window "
                "again"
            )
        )
    if report.reconcile is not None:
        errors += _report_reconcile(report.reconcile)
    return errors


@app.command()
@handle_errors
def reconcile(
    force: bool = typer.Option(False, "--force", help="Apply deletions past the guard."),
    kind: str = type_option(),
) -> None:
    """A complete pass that refreshes every item and soft-deletes the ones that vanished; one
    run per type. Exit 4 when the deletion guard refused (nothing deleted), 5 when a pass
    was incomplete."""
    kinds = resolve(kind)
    cfg = settings()
    errors: list[HotstarSyncError] = []
    with progress_display(f"reconcile {label(kinds)}") as progress, _verdicts_first(errors):
        reconcile_types(
            cfg,
            kinds,
            force=force,
            progress=progress,
            url=database_url(cfg),
            # Each type's line as soon as it is done: a later type may still fail.
            on_report=lambda report: errors.extend(_report_reconcile(report)),
        )
    _raise_worst(errors)


@app.command()
@handle_errors
def verify(kind: str = type_option()) -> None:
    """Count probes, read-only: the API's counts against the mirror's, window by window.

    Prints each type's windows probed and the requests spent; exit 5 when they differ.
    With `--type all`, the types this database never loaded are skipped; seasons, searched
    per show, have no count to probe (a reconcile checks them)."""
    kinds = resolve(kind)
    cfg = settings()
    probed = [k for k in kinds if k.probe]
    for k in kinds:
        if not k.probe:
            typer.echo(f"{k.name}: searched per {k.parent}, no count probe (a reconcile checks it)")
    reports = verify_types(cfg, probed, url=database_url(cfg), only_loaded=kind == ALL)
    errors: list[HotstarSyncError] = []
    for name, report in reports.items():
        if report is None:
            typer.echo(f"{name}: never loaded here, not probed")
            continue
        table = Table(
            "startDate window", "API", "mirror", "difference", title=f"{name} count probes"
        )
        for w in report.probed:
            table.add_row(w.window.text(), f"{w.api:,}", f"{w.mirror:,}", f"{w.drift:+,}")
        Console().print(table)
        typer.echo(f"{name}: {report.requests} request(s)")
        if report.drift or report.leaves or report.fell_back:
            where = (
                "too far apart to narrow down for less than a full pass"
                if report.fell_back
                else f"{len(report.leaves)} window(s) differ"
            )
            errors.append(
                DriftError(
                    f"{name}: the API holds {report.api_total:,} items and the mirror "
                    f"{report.mirror_total:,} present rows; {where}",
                    hint="run `hotstar-sync sync` (its probe repairs it) or "
                    "`hotstar-sync reconcile`",
                )
            )
    _raise_worst(errors)


def _parse_since(value: str) -> tuple[int | None, datetime | None]:
    if value.isdigit():
        return int(value), None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since: {value!r} is neither a run id nor an ISO-8601 time") from None
    # No offset means UTC, as in /api/changes (not the database session's time zone).
    return None, moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@app.command()
@handle_errors
def changes(
    since: str = typer.Option(
        ..., "--since", help="A run id (changes of later runs) or an ISO-8601 time."
    ),
    change: str | None = typer.Option(
        None, "--type", help=f"Only this kind of change: {', '.join(CHANGES)}."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """Print the change log: every insert, update (with the fields), delete and restore."""
    if change is not None and change not in CHANGES:
        raise ConfigError(f"--type: must be one of {', '.join(CHANGES)}")
    run_id, moment = _parse_since(since)
    cfg = settings()
    with connect(database_url(cfg)) as conn:
        rows = changes_since(conn, run_id=run_id, since=moment, change=change)
        if as_json:
            for row in rows:
                typer.echo(orjson.dumps(row, default=str).decode())
            return
        table = Table("id", "run", "type", "contentId", "change", "fields / reason", "at")
        for row in rows:
            detail = ", ".join(row["changed_fields"] or []) or (row["reason"] or "")
            table.add_row(
                str(row["id"]),
                str(row["run_id"]),
                row["content_type"],
                row["content_id"],
                row["change"],
                detail,
                row["changed_at"].astimezone(UTC).isoformat(timespec="seconds"),
            )
        print_whole(Console(highlight=False), table)

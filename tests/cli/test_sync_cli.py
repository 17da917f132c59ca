"""`hotstar-sync sync`'s report of several types: every type's lines, then the worst exit.

The jobs are replaced by their reports (the jobs themselves run for real in tests/jobs):
what is tested here is what the command prints and the exit code it picks.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.db.writer import PageCounts
from hotstar_sync.errors import ApiError
from hotstar_sync.jobs.probe import ProbeReport
from hotstar_sync.jobs.reconcile import ReconcileReport
from hotstar_sync.jobs.sync import SyncReport

ENV = {
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",  # never connected to here
    "HOTSTAR_API_BASE_URL": "http://127.0.0.1:9",
}


def report(run: int, status: str, kind: str, **extra: Any) -> SyncReport:
    return SyncReport(
        run, status, 0, 10, PageCounts(added=1), 0, 0, 2, 0.5, content_type=kind, **extra
    )


def invoke(
    monkeypatch: pytest.MonkeyPatch,
    reports: list[SyncReport],
    *args: str,
    then: Exception | None = None,
) -> Any:
    """`hotstar-sync sync` whose job hands over `reports` one by one, then raises `then`."""

    def sync_types(*_: Any, on_report: Any, **__: Any) -> list[SyncReport]:
        for one in reports:
            on_report(one)
        if then is not None:
            raise then
        return reports

    monkeypatch.setattr("hotstar_sync.cli.sync.sync_types", sync_types)
    return CliRunner().invoke(app, ["sync", *args], env=ENV)


def test_every_type_is_reported_and_the_guard_decides_the_exit(monkeypatch):
    refused = report(
        1, "refused", "movie", probe=ProbeReport(refused=True, would_vanish=9, live_rows=300)
    )
    reconciled = ReconcileReport(
        3, "completed", PageCounts(), 0, 0, 100, 0, 12, 3.0, content_type="channel"
    )
    incomplete = report(2, "incomplete", "channel", reconcile=reconciled)
    result = invoke(monkeypatch, [refused, incomplete], "--type", "all")
    assert result.exit_code == 4
    out = result.stdout.splitlines()
    assert out[0].startswith("movie sync run 1: refused")
    assert any(line.startswith("channel sync run 2: incomplete") for line in out)
    assert out[-1].startswith("channel reconcile run 3: completed")  # after an incomplete sync
    assert result.stderr.splitlines() == [
        "error: sync run 2 is incomplete; the next sync covers the same window again",
        "error: sync run 1: the count probe would soft-delete 9 of 300 live rows as vanished, "
        "over HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted",
        "hint: inspect the run, then rerun with --force to apply the deletions",
    ]


def test_all_completed_exits_0(monkeypatch):
    result = invoke(monkeypatch, [report(1, "completed", "movie"), report(2, "completed", "show")])
    assert result.exit_code == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 2


def test_a_probe_too_costly_says_what_happened(monkeypatch):
    fell_back = ProbeReport(fell_back=True)
    result = invoke(monkeypatch, [report(1, "completed", "movie", probe=fell_back)])
    assert "too costly for a probe: run `hotstar-sync reconcile`" in result.stdout
    reconciled = ReconcileReport(3, "completed", PageCounts(), 0, 0, 100, 0, 12, 3.0)
    with_reconcile = report(1, "completed", "movie", probe=fell_back, reconcile=reconciled)
    result = invoke(monkeypatch, [with_reconcile])
    assert "too costly, reconciled instead" in result.stdout


def test_a_later_type_failing_does_not_hide_the_earlier_ones(monkeypatch):
    refused = report(
        1, "refused", "movie", probe=ProbeReport(refused=True, would_vanish=9, live_rows=300)
    )
    failure = ApiError("/channel/list: HTTP 404: not found")
    result = invoke(monkeypatch, [refused], "--type", "all", then=failure)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("movie sync run 1: refused")
    assert result.stderr.splitlines() == [
        "error: sync run 1: the count probe would soft-delete 9 of 300 live rows as vanished, "
        "over HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted",
        "error: /channel/list: HTTP 404: not found",
    ]


def test_a_type_searched_per_parent_says_what_its_walks_deleted_or_held_back(monkeypatch):
    done = report(1, "completed", "season", parents=4, vanished=3, live_rows=50)
    held = report(2, "refused", "season", parents=6, would_vanish=7, live_rows=47)
    result = invoke(monkeypatch, [done, held], "--type", "season")
    assert result.exit_code == 4
    first, second = result.stdout.splitlines()
    assert first.startswith("season sync run 1: completed") and ", 3 vanished, " in first
    assert "updateDate" not in first and ", 0 quarantined, " in first  # no window polled
    assert second.startswith("season sync run 2: refused") and ", 0 vanished, " in second
    assert result.stderr.splitlines()[0] == (
        "error: sync run 2: the parents' walks would soft-delete 7 of 47 live rows as "
        "vanished, over HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted"
    )


def test_reconcile_reports_each_type_before_a_later_type_fails(monkeypatch):
    refused = ReconcileReport(
        4, "refused", PageCounts(), 0, 30, 431, 0, 12, 3.0, content_type="show"
    )

    def reconcile_types(*_: Any, on_report: Any, **__: Any) -> list[ReconcileReport]:
        on_report(refused)
        raise ApiError("/channel/list: HTTP 404: not found")

    monkeypatch.setattr("hotstar_sync.cli.sync.reconcile_types", reconcile_types)
    result = CliRunner().invoke(app, ["reconcile", "--type", "all"], env=ENV)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("show reconcile run 4: refused")
    assert result.stderr.splitlines() == [
        "error: reconcile run 4 would soft-delete 30 of 431 live rows as vanished, over "
        "HOTSTAR_DELETE_GUARD_FRACTION; nothing was deleted",
        "error: /channel/list: HTTP 404: not found",
    ]

"""The scheduler: it fires on its trigger, never runs two at once, survives failures, and
stops gracefully on SIGTERM. Jobs here are small functions of the test's own."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from structlog.testing import capture_logs

from hotstar_sync.errors import ConfigError, FatalError
from hotstar_sync.ops.scheduler import Scheduler, cron_trigger
from tests.ops.conftest import cli

FAST = IntervalTrigger(seconds=0.1)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


@dataclass
class Report:
    run_id: int
    status: str
    seconds: float


def test_it_runs_the_job_on_its_trigger_and_logs_each_run() -> None:
    calls: list[float] = []

    def job() -> Report:
        calls.append(time.monotonic())
        return Report(run_id=len(calls), status="completed", seconds=0.0)

    scheduler = Scheduler(job, FAST)
    with capture_logs() as logs:
        scheduler.start()
        try:
            wait_for(lambda: len(calls) >= 2)
        finally:
            scheduler.stop()
    finished = events(logs, "scheduled sync finished")
    assert len(finished) >= 2
    assert finished[0]["scheduled"] == 1 and finished[0]["run_id"] == 1
    assert finished[0]["status"] == "completed"
    assert events(logs, "scheduled sync started")[0]["scheduled"] == 1
    assert events(logs, "scheduler stopped")


def test_a_start_while_the_job_runs_is_skipped_and_logged() -> None:
    release = threading.Event()
    active, most, runs = 0, 0, 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal active, most, runs
        with lock:
            active, runs = active + 1, runs + 1
            most = max(most, active)
        release.wait(10)
        with lock:
            active -= 1

    scheduler = Scheduler(job, FAST)
    with capture_logs() as logs:
        scheduler.start()
        try:
            wait_for(lambda: len(events(logs, "scheduled sync skipped")) >= 2)
            assert scheduler.running
        finally:
            release.set()
            scheduler.stop()
    assert most == 1
    skipped = events(logs, "scheduled sync skipped")[0]
    assert skipped["reason"] == "the previous run is still going"
    assert skipped["log_level"] == "warning"


def test_a_failing_run_is_logged_and_the_next_one_still_starts() -> None:
    calls = 0

    def job() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise FatalError("sync log: the database went away")
        if calls == 2:
            raise ZeroDivisionError("a bug")
        return "ok"

    scheduler = Scheduler(job, FAST)
    with capture_logs() as logs:
        scheduler.start()
        try:
            wait_for(lambda: calls >= 3)
        finally:
            scheduler.stop()
    (failed,) = events(logs, "scheduled sync failed")
    assert failed["error"] == "sync log: the database went away"
    assert failed["log_level"] == "error"
    (crashed,) = events(logs, "scheduled sync crashed")
    assert crashed["error"] == "ZeroDivisionError"
    assert events(logs, "scheduled sync finished")[0]["scheduled"] == 3


def finished_line(result: object) -> dict[str, Any]:
    """The scheduler's "finished" log entry of a job that returns `result`."""
    scheduler = Scheduler(lambda: result, FAST)
    with capture_logs() as logs:
        scheduler.start()
        try:
            wait_for(lambda: bool(events(logs, "scheduled sync finished")))
        finally:
            scheduler.stop()
    return events(logs, "scheduled sync finished")[0]


def test_an_incomplete_run_is_logged_as_a_warning() -> None:
    entry = finished_line(Report(run_id=7, status="incomplete", seconds=1.0))
    assert (entry["log_level"], entry["status"], entry["run_id"]) == ("warning", "incomplete", 7)


def test_each_type_s_seconds_are_rounded_in_the_finished_line() -> None:
    entry = finished_line([Report(run_id=8, status="completed", seconds=0.05477941200001624)])
    assert entry["runs"] == [{"run_id": 8, "status": "completed", "seconds": 0.1}]


def test_sigterm_lets_the_run_in_progress_finish_then_stops() -> None:
    started, finished = threading.Event(), threading.Event()

    def job() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    def terminate_once_started() -> None:
        started.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=terminate_once_started, daemon=True).start()
    with capture_logs() as logs:
        Scheduler(job, IntervalTrigger(seconds=0.2)).run_until_stopped()
    assert finished.is_set()
    assert events(logs, "stop requested")[0]["signal"] == "SIGTERM"
    assert events(logs, "scheduler stopped")
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_cron_trigger_runs_at_two_in_the_morning_india_time() -> None:
    trigger = cron_trigger("0 2 * * *", "Asia/Kolkata")
    after = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)  # 05:30 IST: today's 02:00 has passed
    fire = trigger.get_next_fire_time(None, after)
    assert fire.isoformat() == "2026-01-11T02:00:00+05:30"


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [
        ("0 2 * * 0", {"Sun"}),
        ("0 2 * * 7", {"Sun"}),
        ("0 2 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 2 * * 0,6", {"Sat", "Sun"}),
        ("0 2 * * 0-2", {"Sun", "Mon", "Tue"}),
        ("0 2 * * */3", {"Sun", "Wed", "Sat"}),
        ("0 2 * * 1/2", {"Mon", "Wed", "Fri", "Sun"}),
        ("0 2 * * sun", {"Sun"}),
        ("0 2 * * mon-wed", {"Mon", "Tue", "Wed"}),
    ],
)
def test_days_of_the_week_count_as_cron_counts_them(cron: str, weekdays: set[str]) -> None:
    trigger = cron_trigger(cron, "UTC")
    fire, seen = datetime(2026, 1, 4, 0, 0, tzinfo=UTC), set()  # a Sunday
    for _ in range(14):
        fire = trigger.get_next_fire_time(None, fire + timedelta(minutes=1))
        seen.add(fire.strftime("%a"))
    assert seen == weekdays


@pytest.mark.parametrize(
    ("cron", "zone", "message"),
    [
        (
            "0 2 * *",
            "UTC",
            "HOTSTAR_SYNC_CRON: Wrong number of fields; got 4, expected 5 (in '0 2 * *')",
        ),
        ("0 2 * * *", "Mars/Olympus", "HOTSTAR_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        (
            "0 2 * * 8",
            "UTC",
            "HOTSTAR_SYNC_CRON: day of week '8' is not within 0-7 (in '0 2 * * 8')",
        ),
        ("0 2 30 2 *", "UTC", "HOTSTAR_SYNC_CRON: '0 2 30 2 *' never fires"),
    ],
)
def test_a_bad_timetable_is_a_config_error(cron: str, zone: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        cron_trigger(cron, zone)
    assert caught.value.message == message


def test_schedule_with_a_bad_cron_exits_2_naming_the_variable() -> None:
    # The timetable is checked before the database is even looked for.
    result = cli("postgresql://x@127.0.0.1:1/x", "schedule", HOTSTAR_SYNC_CRON="61 * * * *")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: HOTSTAR_SYNC_CRON: Error validating expression '61': the last value (61) is "
        "higher than the maximum value (59) (in '61 * * * *')\n"
    )


@dataclass
class Counts:
    added: int
    updated: int


@dataclass
class TypeReport:
    run_id: int
    content_type: str
    status: str
    counts: Counts


def test_a_run_of_several_types_logs_each_and_warns_for_the_worst() -> None:
    entry = finished_line(
        [
            TypeReport(7, "movie", "completed", Counts(3, 1)),
            TypeReport(8, "channel", "refused", Counts(0, 2)),
        ]
    )
    assert (entry["log_level"], entry["status"]) == ("warning", "refused")
    assert entry["runs"] == [
        {"run_id": 7, "content_type": "movie", "status": "completed", "added": 3, "updated": 1},
        {"run_id": 8, "content_type": "channel", "status": "refused", "added": 0, "updated": 2},
    ]


@dataclass
class PassReport:
    run_id: int
    status: str


@dataclass
class DailyReport:
    run_id: int
    status: str
    counts: Counts
    reconcile: PassReport | None = None


def test_a_refused_reconcile_inside_a_completed_sync_is_a_warning() -> None:
    entry = finished_line(
        [DailyReport(4, "completed", Counts(1, 0), reconcile=PassReport(5, "refused"))]
    )
    assert (entry["log_level"], entry["status"]) == ("warning", "refused")
    assert entry["runs"] == [
        {
            "run_id": 4,
            "status": "completed",
            "added": 1,
            "updated": 0,
            "reconcile": {"run_id": 5, "status": "refused"},
        }
    ]

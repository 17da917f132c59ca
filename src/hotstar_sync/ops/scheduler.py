"""Run a job (the daily sync) on a cron timetable in this process, one run at a time.

APScheduler 3 does the timing: `max_instances=1` skips a start while the previous run still
goes (we log that), and `coalesce` turns starts missed while the process was paused into one.
Another process running a job on the same database is kept out by the database's job lock;
the job reports that as `JobLockedError`, which is logged like any other failure. A failure
never stops the scheduler: the next start is another try.

The job is a plain callable, so the scheduler knows nothing of what it runs: the CLI passes
the real sync, tests a small function of their own. Each run makes its own tokens (the
client refreshes them as they near expiry), so the seed's separate 30-minute token cron is
not needed.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from hotstar_sync.errors import ConfigError, HotstarSyncError

log = structlog.get_logger(__name__)

Job = Callable[[], object]
#: A start may run this late (process paused, clock jump) and still count.
MISFIRE_GRACE_SECONDS = 3600
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


#: Cron's day-of-week numbers: 0 and 7 are Sunday.
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _cron_weekdays(field: str) -> str:
    """The day-of-week field with cron's numbers as day names. APScheduler 3 counts 0 as
    Monday (apscheduler#286: fixed only in 4.0), so `0 2 * * 0` would run on Mondays.
    Numeric ranges and steps become lists, as a range of names cannot pass Sunday."""
    days = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span != "*" and not span.replace("-", "").isdigit():
            days.append(part)  # names, as APScheduler reads them
            continue
        first, _, last = span.partition("-")
        low = 0 if span == "*" else int(first)
        # `*/2` and `1/2` run to the end of the week, as cron reads them.
        to_end = span == "*" or (step and not last)
        high = (7 if step else 6) if to_end else int(last or first)
        if high > 7 or low > high or step == "0":
            raise ValueError(f"day of week {part!r} is not within 0-7")
        days += [_CRON_DAYS[day] for day in range(low, high + 1, int(step or 1))]
    return ",".join(dict.fromkeys(days))


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger for a five-field crontab line in an IANA time zone."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"HOTSTAR_TIMEZONE: unknown time zone {timezone!r}") from None
    try:
        fields = expression.split()
        if len(fields) == 5 and fields[4] != "*":
            fields[4] = _cron_weekdays(fields[4])
        trigger = CronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise ConfigError(f"HOTSTAR_SYNC_CRON: {exc} (in {expression!r})") from None
    # A valid line can still never match a date (30 February): it would wait forever.
    if trigger.get_next_fire_time(None, datetime.now(zone)) is None:
        raise ConfigError(f"HOTSTAR_SYNC_CRON: {expression!r} never fires")
    return trigger


def _summary(result: object) -> dict[str, Any]:
    """The scalar fields of a job's report (a dataclass), for its log line; of a list of
    reports (one per content type), each one's under `runs`, and the first status that is
    not 'completed' as the line's."""
    if isinstance(result, list | tuple):
        runs = [_summary(report) for report in result]
        return {"status": _worst(runs), "runs": runs} if runs else {}
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return {}
    summary: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, float):
            summary[f.name] = round(value, 1)  # seconds: 0.1 s is enough for a log line
        elif isinstance(value, str | int | bool):
            summary[f.name] = value
        elif f.name == "counts" and dataclasses.is_dataclass(value):
            summary |= _summary(value)  # a report's PageCounts: added, updated, ...
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            summary[f.name] = _summary(value)  # e.g. a sync's reconcile, under its name
    return summary


def _worst(runs: list[dict[str, Any]]) -> str:
    """The first status that is not 'completed' among `runs` and the reports they hold."""
    for run in runs:
        nested = [value for value in run.values() if isinstance(value, dict)]
        for status in (run.get("status", "completed"), _worst(nested)):
            if status != "completed":
                return str(status)
    return "completed"


class Scheduler:
    """Runs `job` at every fire time of `trigger`, never two at once."""

    def __init__(self, job: Job, trigger: BaseTrigger, *, name: str = "sync") -> None:
        self.name = name
        self._job = job
        self._busy = threading.Lock()
        self._runs = 0
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._run,
            trigger,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
        self._scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    @property
    def next_run_time(self) -> datetime | None:
        job = self._scheduler.get_job(self.name)
        return None if job is None else job.next_run_time

    @property
    def running(self) -> bool:
        """True while a run is going."""
        return self._busy.locked()

    def _run(self) -> None:
        # Events say "scheduled": the job logs its own "sync started/finished" lines.
        with self._busy:
            self._runs += 1
            run, started = self._runs, time.monotonic()
            log.info(f"scheduled {self.name} started", scheduled=run)
            try:
                result = self._job()
            except HotstarSyncError as exc:
                log.error(
                    f"scheduled {self.name} failed",
                    scheduled=run,
                    error=exc.message,
                    seconds=round(time.monotonic() - started, 1),
                )
            except Exception as exc:
                # A bug in the job must not end the scheduler: log it whole and try next time.
                log.exception(
                    f"scheduled {self.name} crashed", scheduled=run, error=type(exc).__name__
                )
            else:
                summary = _summary(result)
                finished = log.info if _worst([summary]) == "completed" else log.warning
                finished(
                    f"scheduled {self.name} finished",
                    scheduled=run,
                    seconds=round(time.monotonic() - started, 1),
                    **{k: v for k, v in summary.items() if k != "seconds"},
                )

    def _skipped(self, event: JobSubmissionEvent) -> None:
        reason = (
            "the previous run is still going"
            if event.code == EVENT_JOB_MAX_INSTANCES
            else "it is too late to run it"
        )
        for due in event.scheduled_run_times:
            log.warning(f"scheduled {self.name} skipped", due=due.isoformat(), reason=reason)

    def start(self) -> None:
        self._scheduler.start()
        log.info(f"{self.name} scheduled", next_run=str(self.next_run_time))

    def stop(self, *, wait: bool = True) -> None:
        """Start no new run; with `wait`, let the one going finish first."""
        if self.running:
            log.info(f"{self.name} stopping: waiting for the run in progress to finish")
        self._scheduler.shutdown(wait=wait)
        log.info("scheduler stopped")

    def run_until_stopped(self, stop: threading.Event | None = None) -> None:
        """Run until SIGTERM or SIGINT (or `stop` is set), then stop gracefully.

        Call from the main thread (signal handlers live there). A second signal, while the
        last run finishes, ends the process at once; the next job marks that run abandoned.
        """
        stop = stop or threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("stop requested", signal=signal.Signals(signum).name)
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
        try:
            self.start()
            # A timed wait: the handler runs between two waits, never inside a lock's wait.
            while not stop.wait(timeout=1.0):
                pass
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            self.stop(wait=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

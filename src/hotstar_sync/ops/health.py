"""Is the mirror healthy? The seed's check-sync-health rules, and the ones it lacked.

`evaluate` is pure: plain data in (the latest runs, the database's clock), findings out.
`read_history` is the one small reader of `hotstar_sync_log` behind it, and `check` joins
the two, turning an unreadable database into UNKNOWN rather than an error.

The rules (docs/operations.md):

- no row in the sync log at all                                  CRITICAL
- a run 'running' for over an hour (stuck, or its process died)   CRITICAL
- the last daily sync started over 26 hours ago                   CRITICAL
- the last daily sync failed                                      CRITICAL
- the last daily sync was incomplete or abandoned                 WARNING
- the last daily sync's count probe found vanished rows, but the
  deletion guard held them back (status 'refused')                WARNING
- no daily sync yet, and no complete pass in the last 26 hours    CRITICAL
- the last complete pass (a 'completed' initial or reconcile)
  is older than HOTSTAR_RECONCILE_EVERY_DAYS + 1 days             WARNING
  ... older than twice that                                       CRITICAL
- no complete pass ever                                           CRITICAL
- the last pass since then was refused by the deletion guard,
  incomplete, failed or abandoned                                 WARNING

A refused reconcile is a WARNING, not CRITICAL: the mirror still takes every addition and
update, and only deletions wait for a person to review them. If nobody does, the age of the
last complete pass turns it CRITICAL after twice the reconcile interval.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hotstar_sync.errors import HotstarSyncError
from hotstar_sync.ops import read_only

#: The seed's limits: a daily sync is due every 24 h (2 h of slack), and takes minutes.
DAILY_MAX_AGE = timedelta(hours=26)
STUCK_AFTER = timedelta(hours=1)
PASS_TYPES = ("initial", "reconcile")


class Level(enum.IntEnum):
    """Nagios plugin states; the value is the exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass(frozen=True, slots=True)
class RunRow:
    """What the rules need of one `hotstar_sync_log` row."""

    id: int
    sync_type: str
    status: str
    started_at: datetime
    completed_at: datetime | None = None
    #: The last entry of `errors`: why a run failed.
    reason: str | None = None
    #: How many windows the run could not verify.
    unverified: int = 0
    #: A daily sync's count probe (`jobs.probe.ProbeReport.details`), when it ran one.
    probe: dict[str, Any] | None = None

    @property
    def ended_at(self) -> datetime:
        return self.completed_at or self.started_at


@dataclass(frozen=True, slots=True)
class History:
    """The runs the rules look at, and the database's clock when they were read."""

    now: datetime
    any_run: bool
    last_daily: RunRow | None = None
    #: The newest 'completed' initial or reconcile.
    last_complete_pass: RunRow | None = None
    #: The newest initial or reconcile that has ended, whatever its status.
    last_pass: RunRow | None = None
    running: tuple[RunRow, ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    daily_max_age: timedelta = DAILY_MAX_AGE
    stuck_after: timedelta = STUCK_AFTER
    pass_warning: timedelta = timedelta(days=8)
    pass_critical: timedelta = timedelta(days=16)

    @classmethod
    def for_reconcile_every(cls, days: float) -> Limits:
        """A reconcile is due every `days`: one day late is a WARNING, twice that CRITICAL."""
        warning = timedelta(days=days + 1)
        return cls(pass_warning=warning, pass_critical=2 * warning)


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    message: str

    def __str__(self) -> str:
        return f"{self.level.name}: {self.message}"


@dataclass(frozen=True, slots=True)
class HealthReport:
    findings: tuple[Finding, ...]

    @property
    def level(self) -> Level:
        return max((f.level for f in self.findings), default=Level.OK)

    def lines(self) -> list[str]:
        return [str(f) for f in self.findings]

    def problems(self) -> list[Finding]:
        """The findings worth an alert: everything but OK."""
        return [f for f in self.findings if f.level is not Level.OK]


def at(moment: datetime) -> str:
    """A time as alerts and the CLI print it: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


def _run_name(run: RunRow) -> str:
    return f"{'daily sync' if run.sync_type == 'daily' else run.sync_type} run {run.id}"


def _stuck(history: History, limits: Limits) -> list[Finding]:
    return [
        Finding(
            Level.CRITICAL,
            f"{_run_name(run)} stuck in 'running' for {_hours(history.now - run.started_at)} "
            f"(started {at(run.started_at)})",
        )
        for run in history.running
        if history.now - run.started_at > limits.stuck_after
    ]


def _daily(history: History, limits: Limits) -> list[Finding]:
    last = history.last_daily
    if last is None:
        passed = history.last_complete_pass
        # Right after the first ingest no daily sync is due yet: the pass stands in for it.
        if passed is not None and history.now - passed.ended_at <= limits.daily_max_age:
            return []
        return [Finding(Level.CRITICAL, "no daily sync has run")]
    found = []
    age = history.now - last.started_at
    if age > limits.daily_max_age:
        found.append(
            Finding(
                Level.CRITICAL,
                f"last daily sync was {_hours(age)} ago (started {at(last.started_at)}), "
                f"over the {_hours(limits.daily_max_age)} limit",
            )
        )
    if last.status == "failed":
        reason = last.reason or "no reason recorded"
        found.append(
            Finding(Level.CRITICAL, f"last daily sync failed at {at(last.ended_at)}: {reason}")
        )
    elif last.status == "incomplete":
        found.append(
            Finding(
                Level.WARNING,
                f"last daily sync ({_run_name(last)}, {at(last.started_at)}) was incomplete: "
                f"{last.unverified} window(s) not verified; the next sync covers them again",
            )
        )
    elif last.status == "abandoned":
        found.append(
            Finding(
                Level.WARNING,
                f"last daily sync ({_run_name(last)}, {at(last.started_at)}) was abandoned: "
                "its process ended without finishing",
            )
        )
    elif last.status == "refused":
        probe = last.probe or {}
        found.append(
            Finding(
                Level.WARNING,
                f"deletion guard tripped: the count probe of {_run_name(last)} "
                f"({at(last.started_at)}) found {probe.get('would_vanish', '?')} vanished "
                "row(s) and deleted nothing; review it, then run `hotstar-sync sync --force`",
            )
        )
    return found


def _passes(history: History, limits: Limits) -> list[Finding]:
    complete = history.last_complete_pass
    found = []
    if complete is None:
        found.append(
            Finding(Level.CRITICAL, "no complete pass has finished: run `hotstar-sync ingest`")
        )
    else:
        age = history.now - complete.ended_at
        for level, limit in (
            (Level.CRITICAL, limits.pass_critical),
            (Level.WARNING, limits.pass_warning),
        ):
            if age > limit:
                found.append(
                    Finding(
                        level,
                        f"last complete pass ({_run_name(complete)}) finished {_days(age)} ago "
                        f"({at(complete.ended_at)}), over the {_days(limit)} limit",
                    )
                )
                break
    last = history.last_pass
    if last is None or (complete is not None and last.id == complete.id):
        return found
    name, when = _run_name(last), at(last.ended_at)
    if last.status == "refused":
        message = (
            f"deletion guard tripped: {name} at {when} was refused, nothing was deleted; "
            "review it, then run `hotstar-sync reconcile --force`"
        )
    elif last.status == "incomplete":
        message = (
            f"last pass ({name}, {when}) was incomplete: {last.unverified} window(s) not "
            "verified, nothing was deleted"
        )
    elif last.status == "failed":
        message = f"last pass ({name}) failed at {when}: {last.reason or 'no reason recorded'}"
    elif last.status == "abandoned":
        message = f"last pass ({name}, {when}) was abandoned: its process ended without finishing"
    else:
        return found
    found.append(Finding(Level.WARNING, message))
    return found


def _summary(history: History) -> Finding:
    parts = []
    if history.last_daily is not None:
        parts.append(
            f"last daily sync {history.last_daily.status} "
            f"{_hours(history.now - history.last_daily.started_at)} ago"
        )
        probe = history.last_daily.probe
        if probe and probe.get("drift"):
            parts.append(
                f"its count probe found drift {probe['drift']:+} (API {probe['api_total']:,}, "
                f"mirror {probe['mirror_total']:,}): {probe.get('missing', 0)} missing item(s) "
                f"stored, {probe.get('vanished', 0)} row(s) vanished"
            )
    else:
        parts.append("no daily sync due yet")
    if history.last_complete_pass is not None:
        parts.append(
            f"last complete pass {_days(history.now - history.last_complete_pass.ended_at)} ago"
        )
    return Finding(Level.OK, "; ".join(parts))


def evaluate(history: History, limits: Limits | None = None) -> HealthReport:
    """Apply every rule of the module docstring to `history`."""
    limits = limits or Limits()
    if not history.any_run:
        return HealthReport(
            (Finding(Level.CRITICAL, "no sync has run: start with `hotstar-sync ingest`"),)
        )
    found = _stuck(history, limits) + _daily(history, limits) + _passes(history, limits)
    return HealthReport(tuple(found) or (_summary(history),))


def unknown(reason: str) -> HealthReport:
    return HealthReport((Finding(Level.UNKNOWN, reason),))


# -- the reader ----------------------------------------------------------------------------

_COLUMNS = """
SELECT id, sync_type, status, started_at, completed_at,
       CASE jsonb_typeof(errors) WHEN 'array' THEN errors -> -1 #>> '{}' END AS reason,
       CASE jsonb_typeof(incomplete_windows)
         WHEN 'array' THEN jsonb_array_length(incomplete_windows) ELSE 0 END AS unverified,
       details -> 'probe' AS probe
FROM hotstar_sync_log
"""
_LAST_DAILY = _COLUMNS + "WHERE sync_type = 'daily' ORDER BY started_at DESC, id DESC LIMIT 1"
_LAST_COMPLETE_PASS = (
    _COLUMNS + "WHERE sync_type = ANY(%s) AND status = 'completed'"
    " ORDER BY completed_at DESC NULLS LAST, id DESC LIMIT 1"
)
_LAST_PASS = (
    _COLUMNS + "WHERE sync_type = ANY(%s) AND status <> 'running'"
    " ORDER BY started_at DESC, id DESC LIMIT 1"
)
_RUNNING = _COLUMNS + "WHERE status = 'running' ORDER BY id"


def _row(row: dict[str, Any] | None) -> RunRow | None:
    return None if row is None else RunRow(**row)


def read_history(conn: psycopg.Connection[Any]) -> History:
    """The runs `evaluate` needs; the database's own clock is `now`, as it stamps the rows."""
    with conn.cursor(row_factory=dict_row) as cur:
        now = cur.execute("SELECT now() AS now").fetchone()
        any_run = cur.execute("SELECT EXISTS (SELECT 1 FROM hotstar_sync_log) AS any").fetchone()
        last_daily = _row(cur.execute(_LAST_DAILY).fetchone())
        complete = _row(cur.execute(_LAST_COMPLETE_PASS, (list(PASS_TYPES),)).fetchone())
        last_pass = _row(cur.execute(_LAST_PASS, (list(PASS_TYPES),)).fetchone())
        running = tuple(RunRow(**r) for r in cur.execute(_RUNNING).fetchall())
    assert now is not None and any_run is not None  # single-row SELECTs
    return History(now["now"], any_run["any"], last_daily, complete, last_pass, running)


def check(url: str, limits: Limits | None = None) -> HealthReport:
    """Read the sync log at `url` and evaluate it; UNKNOWN when it cannot be read."""
    try:
        with read_only(url) as conn:
            history = read_history(conn)
    except HotstarSyncError as exc:
        return unknown(exc.message)
    except psycopg.Error as exc:
        return unknown(f"cannot read the sync log: {exc.diag.message_primary or exc}")
    return evaluate(history, limits)

"""Is the mirror healthy? The seed's check-sync-health rules, and the ones it lacked.

`evaluate` is pure: plain data in (the latest runs, the database's clock), findings out.
`read_histories` is the one small reader of `hotstar_sync_log` behind it, and `check` joins
the two, turning an unreadable database into UNKNOWN rather than an error.

The rules, for each content type with runs (docs/operations.md):

- no row in the sync log at all                                  CRITICAL
- before the first complete pass (and daily sync): a first load
  running is OK; one that ended without completing               CRITICAL
  (a WARNING for a type added beside others with complete passes)
- a run 'running' while no job holds the database's job lock
  (its process died), for over 5 minutes                         CRITICAL
- a run 'running' for over 6 hours (stuck)                        CRITICAL
- the last daily sync started over 26 hours ago                   CRITICAL
- the last daily sync failed                                      CRITICAL
- the last daily sync was incomplete or abandoned                 WARNING
- the last daily sync's count probe (or, seasons, its parents'
  walks) found vanished rows, but the deletion guard held them
  back (status 'refused')                                         WARNING
- no daily sync yet, and no complete pass in the last 26 hours    CRITICAL
- the last complete pass (a 'completed' initial or reconcile)
  is older than HOTSTAR_RECONCILE_EVERY_DAYS + 1 days             WARNING
  ... older than twice that                                       CRITICAL
- no complete pass ever                                           CRITICAL
- the last pass since then was refused by the deletion guard,
  incomplete, failed or abandoned                                 WARNING
- the last daily sync deferred its count probe (the search index
  was still settling, or a walk did not verify), and no run has
  checked the type's deletions for HOTSTAR_DELETIONS_UNCHECKED_DAYS  WARNING
- stored rows behind the API (their latest answer quarantined:
  an item once valid, now malformed; an id another row holds)
  for over a day                                                  WARNING

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

from hotstar_sync.db.runs import JOB_LOCK_KEY, JOB_LOCK_ROW
from hotstar_sync.errors import HotstarSyncError
from hotstar_sync.ops import Source, read_only
from hotstar_sync.ops.status import STALE

#: The seed's limit: a daily sync is due every 24 h (2 h of slack).
DAILY_MAX_AGE = timedelta(hours=26)
#: The seed said one hour, for syncs that take minutes; a first load or reconcile of the
#: whole catalogue takes about two at 1 request/s (7,126 requests), and is not stuck.
STUCK_AFTER = timedelta(hours=6)
#: A 'running' row whose process is gone (no job holds the lock): the few minutes spare
#: the moment between a job taking the lock and this check reading it.
ORPHANED_AFTER = timedelta(minutes=5)
#: A row behind the API for a night may be a feed's passing glitch; a second night is not.
STALE_AFTER = timedelta(days=1)
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
    #: What the parents' walks of a type searched per parent would have soft-deleted.
    would_vanish: int | None = None
    #: What a run refused for the items it was served (UNPUBLISHED, expired) would have
    #: soft-deleted in all.
    would_delete: int | None = None
    #: When a run resumed by a later job (an ingest's) took up again.
    resumed_at: datetime | None = None

    @property
    def running_since(self) -> datetime:
        return self.resumed_at or self.started_at

    @property
    def ended_at(self) -> datetime:
        return self.completed_at or self.started_at


@dataclass(frozen=True, slots=True)
class History:
    """The runs the rules look at, and the database's clock when they were read."""

    now: datetime
    any_run: bool
    last_daily: RunRow | None = None
    #: Whether a hotstar-sync job holds the database's job lock (`db.runs.job_lock`).
    job_running: bool = False
    #: The newest 'completed' initial or reconcile.
    last_complete_pass: RunRow | None = None
    #: The newest initial or reconcile that has ended, whatever its status.
    last_pass: RunRow | None = None
    running: tuple[RunRow, ...] = ()
    #: Stored rows whose latest answer is quarantined (the mirror holds an older version),
    #: and since when the oldest of them is (`ops.status.STALE`).
    stale_rows: int = 0
    stale_since: datetime | None = None
    #: When a run last checked the type's deletions: a complete pass ended, or a daily
    #: sync's count probe finished (neither deferred nor replaced by a reconcile).
    deletions_checked: datetime | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    daily_max_age: timedelta = DAILY_MAX_AGE
    stale_after: timedelta = STALE_AFTER
    deletions_unchecked: timedelta = timedelta(days=3)
    stuck_after: timedelta = STUCK_AFTER
    orphaned_after: timedelta = ORPHANED_AFTER
    pass_warning: timedelta = timedelta(days=8)
    pass_critical: timedelta = timedelta(days=16)

    @classmethod
    def for_reconcile_every(cls, days: float, unchecked_days: float = 3) -> Limits:
        """A reconcile is due every `days`: one day late is a WARNING, twice that CRITICAL.
        Deletions unchecked for `unchecked_days` are a WARNING."""
        warning = timedelta(days=days + 1)
        return cls(
            pass_warning=warning,
            pass_critical=2 * warning,
            deletions_unchecked=timedelta(days=unchecked_days),
        )


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


def _since(run: RunRow) -> str:
    """When a running run started, or took up again when a later job resumed it."""
    return f"{'resumed' if run.resumed_at else 'started'} {at(run.running_since)}"


def _stuck(history: History, limits: Limits) -> list[Finding]:
    found = []
    for run in history.running:
        age, started = history.now - run.running_since, _since(run)
        if not history.job_running and age > limits.orphaned_after:
            found.append(
                Finding(
                    Level.CRITICAL,
                    f"{_run_name(run)} left in 'running' ({started}): no job holds "
                    "the job lock, so its process ended without finishing; the next job "
                    "marks it abandoned",
                )
            )
        elif age > limits.stuck_after:
            found.append(
                Finding(
                    Level.CRITICAL,
                    f"{_run_name(run)} stuck in 'running' for {_hours(age)} ({started})",
                )
            )
    return found


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
    elif last.status == "refused" and last.would_delete is not None:
        found.append(
            Finding(
                Level.WARNING,
                f"deletion guard tripped: {_run_name(last)} ({at(last.started_at)}) was "
                f"served {last.would_delete} live row(s) as UNPUBLISHED or expired, over the "
                "guard, and applied none past it; review it, then run "
                "`hotstar-sync sync --force`",
            )
        )
    elif last.status == "refused":
        # A count probe's finding, or (a type searched per parent) the parents' walks'.
        what = "the count probe" if last.probe is not None else "the parents' walks"
        would = (last.probe or {}).get("would_vanish", last.would_vanish)
        found.append(
            Finding(
                Level.WARNING,
                f"deletion guard tripped: {what} of {_run_name(last)} "
                f"({at(last.started_at)}) found {'?' if would is None else would} vanished "
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


def _unchecked(history: History, limits: Limits) -> list[Finding]:
    """Deletions left unchecked by deferred count probes, for too long."""
    last, checked = history.last_daily, history.deletions_checked
    if last is None or not (last.probe or {}).get("deferred"):
        return []
    if checked is not None and history.now - checked <= limits.deletions_unchecked:
        return []
    since = (
        "never" if checked is None else f"last {_days(history.now - checked)} ago, {at(checked)}"
    )
    why = (
        "the search index was still settling"
        if (last.probe or {}).get("settling")
        else "a walk did not verify"
    )
    return [
        Finding(
            Level.WARNING,
            f"deletions unchecked (checked {since}): the count probe of {_run_name(last)} "
            f"({at(last.started_at)}) was deferred, {why}; the next reconcile checks them, "
            "or run `hotstar-sync reconcile`",
        )
    ]


def _stale(history: History, limits: Limits) -> list[Finding]:
    since = history.stale_since
    if not history.stale_rows or since is None or history.now - since <= limits.stale_after:
        return []
    return [
        Finding(
            Level.WARNING,
            f"{history.stale_rows:,} stored row(s) behind the API for over "
            f"{_days(limits.stale_after)}: the API's answers for them are quarantined (the "
            f"oldest since {at(since)}), so the mirror keeps their last valid version; see "
            "hotstar_quarantine",
        )
    ]


def _summary(history: History) -> Finding:
    parts = []
    if history.last_daily is not None:
        parts.append(
            f"last daily sync {history.last_daily.status} "
            f"{_hours(history.now - history.last_daily.started_at)} ago"
        )
        probe = history.last_daily.probe
        if probe and probe.get("drift"):
            found = (
                f"its count probe found drift {probe['drift']:+} (API {probe['api_total']:,}, "
                f"mirror {probe['mirror_total']:,})"
            )
            if probe.get("deferred"):
                why = (
                    "the search index was still settling"
                    if probe.get("settling")
                    else "a walk did not verify"
                )
                parts.append(f"{found}: deferred to the next run, {why}")
            elif probe.get("fell_back"):  # what the reconcile did is its own run's
                parts.append(f"{found}, too far to narrow down: a reconcile ran instead")
            else:
                parts.append(
                    f"{found}: {probe.get('missing', 0)} missing item(s) stored, "
                    f"{probe.get('vanished', 0)} row(s) vanished"
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
    if history.last_complete_pass is None and history.last_daily is None:
        return _first_load(history, limits, Level.CRITICAL)
    found = (
        _stuck(history, limits)
        + _daily(history, limits)
        + _passes(history, limits)
        + _unchecked(history, limits)
        + _stale(history, limits)
    )
    return HealthReport(tuple(found) or (_summary(history),))


def _first_load(history: History, limits: Limits, failed: Level) -> HealthReport:
    """Before a type's first complete pass: a first load that is running (and alive) is
    OK, whatever an earlier attempt did; a stuck or dead one is CRITICAL; one that ended
    without completing is `failed` (CRITICAL for the only type, a WARNING for a type added
    beside others: they are kept up to date meanwhile)."""
    found = _stuck(history, limits)
    if history.running:
        run = min(history.running, key=lambda r: r.running_since)
        first = run.running_since
        return HealthReport(
            tuple(found)
            or (
                Finding(
                    Level.OK,
                    f"first load running for {_hours(history.now - first)} ({_since(run)})",
                ),
            )
        )
    last = history.last_pass
    if last is None:
        return HealthReport(
            (Finding(Level.CRITICAL, "no complete pass has finished: run `hotstar-sync ingest`"),)
        )
    return HealthReport(
        (
            Finding(
                failed,
                f"first load not complete: {_run_name(last)} was {last.status} at "
                f"{at(last.ended_at)}; run `hotstar-sync ingest` for this type",
            ),
        )
    )


def evaluate_types(histories: dict[str, History], limits: Limits | None = None) -> HealthReport:
    """`evaluate` for each content type with runs: one type's refused or failed run is not
    hidden by another type's later success. With several types, each line names its own."""
    if len(histories) <= 1:
        history = next(iter(histories.values()), None)
        return evaluate(history or History(datetime.now(UTC), False), limits)
    limits = limits or Limits()
    reports = {
        kind: evaluate(history, limits)
        if history.last_complete_pass is not None
        else _first_load(history, limits, Level.WARNING)
        for kind, history in histories.items()
    }
    problems = [(kind, f) for kind, report in reports.items() for f in report.problems()]
    findings = problems or [(kind, f) for kind, report in reports.items() for f in report.findings]
    return HealthReport(tuple(Finding(f.level, f"{kind}: {f.message}") for kind, f in findings))


def unknown(reason: str) -> HealthReport:
    return HealthReport((Finding(Level.UNKNOWN, reason),))


# -- the reader ----------------------------------------------------------------------------

_COLUMNS = """
SELECT id, sync_type, status, started_at, completed_at,
       CASE jsonb_typeof(errors) WHEN 'array' THEN errors -> -1 #>> '{}' END AS reason,
       CASE jsonb_typeof(incomplete_windows)
         WHEN 'array' THEN jsonb_array_length(incomplete_windows) ELSE 0 END AS unverified,
       details -> 'probe' AS probe,
       CASE jsonb_typeof(details -> 'would_vanish')
         WHEN 'number' THEN (details ->> 'would_vanish')::bigint END AS would_vanish,
       CASE jsonb_typeof(details -> 'would_delete')
         WHEN 'number' THEN (details ->> 'would_delete')::bigint END AS would_delete,
       CASE jsonb_typeof(details -> 'resumed_at')
         WHEN 'string' THEN (details ->> 'resumed_at')::timestamptz END AS resumed_at
FROM hotstar_sync_log
"""
# %(type)s: one content type's runs.
_OF_TYPE = "content_type = %(type)s AND "
_LAST_DAILY = (
    _COLUMNS + "WHERE " + _OF_TYPE + "sync_type = 'daily' ORDER BY started_at DESC, id DESC LIMIT 1"
)
_LAST_COMPLETE_PASS = (
    _COLUMNS + "WHERE " + _OF_TYPE + "sync_type = ANY(%(passes)s) AND status = 'completed'"
    " ORDER BY completed_at DESC NULLS LAST, id DESC LIMIT 1"
)
_LAST_PASS = (
    _COLUMNS + "WHERE " + _OF_TYPE + "sync_type = ANY(%(passes)s) AND status <> 'running'"
    " ORDER BY started_at DESC, id DESC LIMIT 1"
)
_RUNNING = _COLUMNS + "WHERE " + _OF_TYPE + "status = 'running' ORDER BY id"
# When the type's deletions were last checked: a complete pass, or a daily sync whose count
# probe was neither deferred nor replaced by a reconcile (refused: a person was told).
_DELETIONS_CHECKED = """
SELECT max(at) AS checked FROM (
  SELECT completed_at AS at FROM hotstar_sync_log
  WHERE content_type = %(type)s AND sync_type = ANY(%(passes)s) AND status = 'completed'
  UNION ALL
  SELECT started_at FROM hotstar_sync_log
  WHERE content_type = %(type)s AND sync_type = 'daily' AND status IN ('completed', 'refused')
    AND jsonb_typeof(details -> 'probe') = 'object'
    AND (details -> 'probe' ->> 'deferred') IS DISTINCT FROM 'true'
    AND (details -> 'probe' ->> 'fell_back') IS DISTINCT FROM 'true'
) t
"""
# Whether any session holds the job lock (a bigint advisory key: high and low 32 bits).
_JOB_RUNNING = f"SELECT EXISTS (SELECT FROM pg_locks WHERE {JOB_LOCK_ROW}) AS running"


def _row(row: dict[str, Any] | None) -> RunRow | None:
    return None if row is None else RunRow(**row)


def read_histories(conn: psycopg.Connection[Any]) -> dict[str, History]:
    """The runs `evaluate` needs, for each content type that has runs, by name. The job lock
    and the database's own clock (`now`, as it stamps the rows) are read once, the lock
    first: a job that takes it afterwards has a 'running' row younger than
    `Limits.orphaned_after`."""
    with conn.cursor(row_factory=dict_row) as cur:
        job = cur.execute(_JOB_RUNNING, {"key": JOB_LOCK_KEY}).fetchone()
        now = cur.execute("SELECT now() AS now").fetchone()
        assert job is not None and now is not None  # single-row SELECTs
        kinds = cur.execute("SELECT DISTINCT content_type FROM hotstar_sync_log ORDER BY 1")
        names = [row["content_type"] for row in kinds.fetchall()]
        stale = {row["content_type"]: row for row in cur.execute(STALE).fetchall()}
        return {
            kind: _read_type(cur, kind, now["now"], job["running"], stale.get(kind))
            for kind in names
        }


def _read_type(
    cur: psycopg.Cursor[dict[str, Any]],
    kind: str,
    now: datetime,
    job_running: bool,
    stale: dict[str, Any] | None,
) -> History:
    params = {"type": kind, "passes": list(PASS_TYPES)}
    checked = cur.execute(_DELETIONS_CHECKED, params).fetchone()
    return History(
        now,
        True,
        deletions_checked=checked["checked"] if checked else None,
        stale_rows=int(stale["rows"]) if stale else 0,
        stale_since=stale["since"] if stale else None,
        last_daily=_row(cur.execute(_LAST_DAILY, params).fetchone()),
        job_running=job_running,
        last_complete_pass=_row(cur.execute(_LAST_COMPLETE_PASS, params).fetchone()),
        last_pass=_row(cur.execute(_LAST_PASS, params).fetchone()),
        running=tuple(RunRow(**r) for r in cur.execute(_RUNNING, params).fetchall()),
    )


def check(url: str, limits: Limits | None = None, source: Source | None = None) -> HealthReport:
    """Read the sync log at `url` (through `source`, when given) and evaluate it; UNKNOWN
    when it cannot be read."""
    try:
        with (source or (lambda: read_only(url)))() as conn:
            histories = read_histories(conn)
    except HotstarSyncError as exc:
        return unknown(exc.message)
    except psycopg.Error as exc:
        return unknown(f"cannot read the sync log: {exc.diag.message_primary or exc}")
    return evaluate_types(histories, limits)

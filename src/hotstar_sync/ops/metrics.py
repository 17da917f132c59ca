"""Prometheus metrics, read from the source database at every scrape.

The sync log is the truth (jobs run in other processes, often cron's), so nothing is
counted in this process: a custom collector runs a few aggregate queries per scrape.

    hotstar_sync_up                                  1 when the database could be read
    hotstar_sync_runs{content_type,sync_type,status}  runs in the sync log
    hotstar_sync_items_total{content_type,sync_type,change}  added, updated, deleted, restored
    hotstar_sync_api_requests_total{content_type,sync_type}  partner API requests
    hotstar_sync_last_success_timestamp_seconds{content_type,sync_type}
    hotstar_sync_last_duration_seconds{content_type,sync_type}  of the last run that ended
    hotstar_sync_mirror_rows{content_type,state}     live and deleted rows of the mirror
    hotstar_sync_health                              0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN

Every series of a run carries its content type: one type's daily sync failing for days is
not hidden by the others' successes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg.rows import dict_row

from hotstar_sync.errors import HotstarSyncError
from hotstar_sync.ops import Source, health, read_only, status

log = structlog.get_logger(__name__)

CHANGES = ("added", "updated", "deleted", "restored")

RUNS_BY_TYPE = """
SELECT content_type, sync_type, status, count(*) AS runs,
       coalesce(sum(items_added), 0) AS added, coalesce(sum(items_updated), 0) AS updated,
       coalesce(sum(items_deleted), 0) AS deleted, coalesce(sum(items_restored), 0) AS restored,
       coalesce(sum(api_requests_made), 0) AS requests,
       max(extract(epoch FROM completed_at)) FILTER (WHERE status = 'completed') AS last_success
FROM hotstar_sync_log
GROUP BY content_type, sync_type, status
"""

LAST_DURATION = """
SELECT DISTINCT ON (content_type, sync_type) content_type, sync_type, duration_seconds
FROM hotstar_sync_log
WHERE status <> 'running' AND duration_seconds IS NOT NULL
ORDER BY content_type, sync_type, completed_at DESC NULLS LAST, id DESC
"""


class SyncLogCollector(Collector):
    """Collects the module docstring's metrics from the database at `url`, per scrape."""

    def __init__(
        self, url: str, limits: health.Limits | None = None, source: Source | None = None
    ) -> None:
        self.url = url
        self.limits = limits
        self.source = source or (lambda: read_only(url))

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("hotstar_sync_up", "1 when the source database could be read.")
        try:
            with self.source() as conn:
                families = self._families(conn)
        except (HotstarSyncError, psycopg.Error) as exc:
            log.warning("metrics: cannot read the database", error=type(exc).__name__)
            up.add_metric([], 0)
            # Still say UNKNOWN, so one alert rule on the health gauge covers this case too.
            yield up
            yield _health(health.Level.UNKNOWN)
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, conn: psycopg.Connection[Any]) -> list[Metric]:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(RUNS_BY_TYPE).fetchall()
            durations = cur.execute(LAST_DURATION).fetchall()
        by = ["content_type", "sync_type"]
        runs = GaugeMetricFamily(
            "hotstar_sync_runs", "Runs in the sync log.", labels=[*by, "status"]
        )
        items = CounterMetricFamily(
            "hotstar_sync_items",
            "Items each kind of run added, updated, soft-deleted and restored.",
            labels=[*by, "change"],
        )
        requests = CounterMetricFamily(
            "hotstar_sync_api_requests", "Partner API requests made.", labels=by
        )
        success = GaugeMetricFamily(
            "hotstar_sync_last_success_timestamp_seconds",
            "When the last completed run of each type ended (Unix time).",
            labels=by,
        )
        totals: dict[tuple[str, str], dict[str, float]] = {}
        last_success: dict[tuple[str, str], float] = {}
        for row in rows:
            key = (row["content_type"], row["sync_type"])
            runs.add_metric([*key, row["status"]], row["runs"])
            sums = totals.setdefault(key, dict.fromkeys((*CHANGES, "requests"), 0.0))
            for name in sums:
                sums[name] += float(row[name])
            if row["last_success"] is not None:
                last_success[key] = max(last_success.get(key, 0.0), float(row["last_success"]))
        for key, sums in sorted(totals.items()):
            for change in CHANGES:
                items.add_metric([*key, change], sums[change])
            requests.add_metric(list(key), sums["requests"])
        for key, when in sorted(last_success.items()):
            success.add_metric(list(key), when)
        duration = GaugeMetricFamily(
            "hotstar_sync_last_duration_seconds",
            "How long the last run of each type that ended took.",
            labels=by,
        )
        for row in durations:
            duration.add_metric([row["content_type"], row["sync_type"]], row["duration_seconds"])
        mirror = GaugeMetricFamily(
            "hotstar_sync_mirror_rows",
            "Rows of the mirror, live or soft-deleted, per content type.",
            labels=["content_type", "state"],
        )
        for kind, sizes in status.mirror_size_by_type(conn).items():
            for state, count in sizes.items():
                mirror.add_metric([kind, state], count)
        level = health.evaluate_types(health.read_histories(conn), self.limits).level
        return [runs, items, requests, success, duration, mirror, _health(level)]


def _health(level: health.Level) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "hotstar_sync_health", "Health: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."
    )
    gauge.add_metric([], int(level))
    return gauge


def make_registry(
    url: str, limits: health.Limits | None = None, source: Source | None = None
) -> CollectorRegistry:
    """A registry holding only our collector: `generate_latest(it)` reads the database."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncLogCollector(url, limits, source))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in Prometheus' text format, read now."""
    return generate_latest(registry)

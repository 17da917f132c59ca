"""The status server: read-only HTTP over the source database.

    GET /                 the status page (static/; charts drawn from /api/runs)
    GET /healthz          the health lines; 200 when OK or WARNING, 503 otherwise
    GET /metrics          Prometheus text format (ops.metrics)
    GET /api/health       the health report as JSON
    GET /api/runs         ?limit=N (1..1000, default 100): runs, newest first, with the
                          mirror's size after each
    GET /api/daily        ?days=N (1..366, default 30): the seed's daily statistics
    GET /api/changes      ?since=<ISO 8601 time, default 24 h ago>&after_id=<id>&limit=N
                          (1..10000, default 1000): the change log, oldest first

Only GET routes exist (anything else is 405) and every connection is read-only, so the
server cannot change the mirror. It binds 127.0.0.1 unless told otherwise.

Under load (a dashboard left open on many screens, a scraper): every read goes through a
pool of at most POOL_SIZE connections, and each answer's data is kept CACHE_SECONDS, one
reader computing it while the others wait for it (no stampede on the database).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import cachetools
import orjson
from cachetools.keys import hashkey
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hotstar_sync.errors import ConfigError, HotstarSyncError
from hotstar_sync.ops import ReadOnlyPool, health, metrics, status

STATIC = Path(__file__).parent / "static"
#: Connections the server opens at most, whatever the load (2 cores: more would only queue
#: in PostgreSQL instead).
POOL_SIZE = 4
#: How long an answer's data is served again before the database is read anew.
CACHE_SECONDS = 2.0
T = TypeVar("T")
#: Everything the page loads comes from this server: it must render offline.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _json(data: Any, status_code: int = 200) -> Response:
    body = orjson.dumps(status.to_json(data))
    return Response(body, status_code=status_code, media_type="application/json")


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be an integer from {low} to {high}")
    return value


def _since(request: Request) -> datetime:
    text = request.query_params.get("since")
    if text is None:  # to the second, so that the answer can be cached
        return (datetime.now(UTC) - timedelta(hours=24)).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"since: {text!r} is not an ISO 8601 time") from None
    # A time without an offset is read as UTC, not as the server's local time.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


Endpoint = Callable[[Request], Response]


def _api(endpoint: Endpoint) -> Endpoint:
    """Bad parameters answer 400, an unreadable database 503, both as {"error": ...}."""

    def wrapper(request: Request) -> Response:
        try:
            return endpoint(request)
        except ConfigError as exc:
            return _json({"error": exc.message}, 400)
        except HotstarSyncError as exc:
            return _json({"error": exc.message}, 503)

    return wrapper


def create_app(
    url: str,
    limits: health.Limits | None = None,
    *,
    pool_size: int = POOL_SIZE,
    cache_seconds: float = CACHE_SECONDS,
) -> Starlette:
    """The status server's ASGI app for the source database at `url`."""
    pool = ReadOnlyPool(url, pool_size)
    pool.open()
    registry = metrics.make_registry(url, limits, pool.connection)
    # One lock and condition for the cache: a reader computing a key makes the others
    # asking for it wait for its answer (cachetools' stampede guard).
    guard = threading.Condition()
    answers: cachetools.TTLCache[Any, Any] | None = (
        cachetools.TTLCache(256, cache_seconds) if cache_seconds else None
    )

    def cached(name: str, make: Callable[..., T]) -> Callable[..., T]:
        if answers is None:
            return make
        return cachetools.cached(
            answers, key=lambda *a: hashkey(name, *a), lock=guard, condition=guard
        )(make)

    def read_health() -> health.HealthReport:
        return health.check(url, limits, pool.connection)

    def read_runs(limit: int) -> dict[str, Any]:
        with pool.connection() as conn:
            return {"runs": status.runs(conn, limit), "mirror": status.mirror_size(conn)}

    def read_daily(days: int) -> dict[str, Any]:
        with pool.connection() as conn:
            return {"days": status.daily_stats(conn, days)}

    def read_changes(since: datetime, after_id: int, limit: int) -> dict[str, Any]:
        with pool.connection() as conn:
            rows = status.changes(conn, since, after_id=after_id, limit=limit)
        # The next page starts after the last id given here; none when this one was short.
        after = rows[-1]["id"] if len(rows) == limit else None
        return {"since": since, "changes": rows, "next_after_id": after}

    health_of = cached("health", read_health)
    runs_of = cached("runs", read_runs)
    daily_of = cached("daily", read_daily)
    changes_of = cached("changes", read_changes)
    exposition = cached("metrics", lambda: metrics.exposition(registry))

    def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    def healthz(request: Request) -> Response:
        report = health_of()
        code = 200 if report.level <= health.Level.WARNING else 503
        return PlainTextResponse("\n".join(report.lines()) + "\n", status_code=code)

    def metrics_text(request: Request) -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    def api_health(request: Request) -> Response:
        report = health_of()
        findings = [{"level": f.level.name, "message": f.message} for f in report.findings]
        return _json({"level": report.level.name, "code": int(report.level), "findings": findings})

    @_api
    def api_runs(request: Request) -> Response:
        return _json(runs_of(_int(request, "limit", 100, 1, 1000)))

    @_api
    def api_daily(request: Request) -> Response:
        return _json(daily_of(_int(request, "days", 30, 1, 366)))

    @_api
    def api_changes(request: Request) -> Response:
        since = _since(request)
        after_id = _int(request, "after_id", 0, 0, 2**63 - 1)
        limit = _int(request, "limit", 1000, 1, 10_000)
        return _json(changes_of(since, after_id, limit))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", page),
            Route("/healthz", healthz),
            Route("/metrics", metrics_text),
            Route("/api/health", api_health),
            Route("/api/runs", api_runs),
            Route("/api/daily", api_daily),
            Route("/api/changes", api_changes),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )

"""The simulator's ASGI app: the partner API's search paths, and admin paths under /_sim/.

A search request meets the contract's checks in the order an edge and a search service
would apply them: mandatory headers and partner (400, 403), the EdgeAuth token (403), the
partner's rate limit (429), the query (400); then the faults in force, then the answer.
The admin paths (no token) live under /_sim/, a prefix the real API cannot have.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hotstar_sync.api.token import verify_token
from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator.catalog import Catalog
from hotstar_sync.simulator.config import Bounds
from hotstar_sync.simulator.content import CONTENT_TYPES, ContentType
from hotstar_sync.simulator.faults import Faults
from hotstar_sync.simulator.store import Query

MANDATORY_HEADERS = ("x-country-code", "x-platform-code", "x-region-code")
MAX_SIZE = 1000
MAX_WINDOW = 10_000  # offset + size (API guide, "Query parameters")
DEFAULT_SIZE = 10
OK_TAIL = b',"statusCode":"OK","statusCodeValue":200}'


#: Answers that break the envelope, by fault kind: (items, results) -> the same, broken.
ODD_ENVELOPES: dict[str, Callable[[bytes, dict[str, Any]], tuple[bytes, dict[str, Any]]]] = {
    "items_null": lambda items, results: (b"null", results),
    "items_object": lambda items, results: (b"{}", results),
    "absurd_total": lambda items, results: (items, results | {"totalResults": 10**12}),
}


#: A gateway's 400 echoing the request's token, in the encodings such bodies carry.
ECHOES: dict[str, Callable[[str], bytes]] = {
    "echo_plain": lambda token: f"bad request; headers: hdnea={token}".encode(),
    "echo_percent": lambda token: (
        f"bad request: GET /search?hdnea={urllib.parse.quote(token, safe='')}".encode()
    ),
    "echo_json": lambda token: (
        b'{"error":"bad request","headers":{"hdnea":"'
        + token.replace("=", "\\u003d").replace("~", "\\u007e").encode()
        + b'"}}'
    ),
}
#: What the gzip bomb inflates to: an envelope that never ends.
BOMB_BYTES = 1 << 30


@functools.cache
def gzip_bomb() -> bytes:
    """~5 MB of gzip that inflates to BOMB_BYTES (made once, in about a second)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b'{"body":{"results":{"items":['
    parts, blank = [packer.compress(head)], b" " * (1 << 20)
    parts += [packer.compress(blank) for _ in range((BOMB_BYTES - len(head)) >> 20)]
    return b"".join([*parts, packer.flush()])


class JSONBytes(Response):
    media_type = "application/json"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"statusCode": HTTPStatus(status).name, "statusCodeValue": status, "message": message}
    return JSONBytes(orjson.dumps(body), status_code=status, headers=headers)


class DroppedResponse(Response):
    """Announces the whole body, sends half of it, and lets the server close the connection.

    uvicorn closes a connection whose app returned before the body was complete, which is
    what a client sees when a proxy or the network drops a response.
    """

    media_type = "application/json"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})


class RateLimiter:
    """A token bucket of one token per partner, refilled at `rate` per second (0: no limit).

    Written out rather than taken from pyrate-limiter because a 429 must say how long to
    wait (Retry-After), which needs the bucket's next refill time.
    """

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, partner: str) -> float:
        """0 when the request may go now (and takes the token); else the seconds to wait."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            ready = self._next.get(partner, 0.0)
            if now < ready:
                return ready - now
            self._next[partner] = now + self._interval
            return 0.0


def parse_query(kind: ContentType, params: dict[str, str], bounds: Bounds) -> Query | str:
    """The query the parameters ask for, or why they are refused (a 400)."""
    missing = [name for name in kind.required if name not in params]
    if missing:
        return f"{kind.path} needs {', '.join(missing)}"
    try:
        offset = int(params.get("offset", "0"))
        size = int(params.get("size", str(DEFAULT_SIZE)))
    except ValueError:
        return "offset and size must be integers"
    if offset < 0 or not 1 <= size <= MAX_SIZE:
        return f"offset must be >= 0 and size between 1 and {MAX_SIZE}"
    if offset + size > MAX_WINDOW:
        return f"offset + size must not exceed {MAX_WINDOW}"
    order_by = params.get("orderBy", next(iter(kind.order_by)))
    if order_by not in kind.order_by:
        return f"orderBy must be one of {', '.join(kind.order_by)}"
    order = params.get("order", "asc")
    if order not in ("asc", "desc"):
        return "order must be asc or desc"
    ranges = []
    for r in kind.ranges:
        try:
            low, high = (int(params[p]) if p in params else None for p in (r.low, r.high))
        except ValueError:
            return f"{r.low} and {r.high} must be integers ({r.unit})"
        # Every bounds mode becomes inclusive integer bounds: values are whole seconds.
        if low is not None and bounds == "exclusive":
            low += 1
        if high is not None and bounds != "inclusive":
            high -= 1
        ranges.append((r.field, low, high))
    equals: list[tuple[str, bool | int]] = []
    for name in kind.flags:
        if name in params:
            if params[name] not in ("true", "false"):
                return f"{name} must be true or false"
            equals.append((name, params[name] == "true"))
    for name in kind.ids:
        if name in params:
            try:
                equals.append((name, int(params[name])))
            except ValueError:
                return f"{name} must be an integer (a numeric id, not a contentId)"
    return Query(
        kind.order_by[order_by], order == "desc", offset, size, tuple(ranges), tuple(equals)
    )


class Simulator:
    """The routes, over one catalogue and one set of faults."""

    def __init__(self, catalog: Catalog, faults: Faults) -> None:
        self.catalog = catalog
        self.faults = faults
        self.config = catalog.config
        self.limiter = RateLimiter(self.config.rate_limit)

    def app(self) -> Starlette:
        routes = [
            Route(kind.path, self._search_endpoint(kind.name), methods=["GET"])
            for kind in CONTENT_TYPES.values()
        ]
        routes += [
            Route("/_sim/day", self.day, methods=["POST"]),
            Route("/_sim/truth", self.truth, methods=["GET"]),
            Route("/_sim/faults", self.get_faults, methods=["GET"]),
            Route("/_sim/faults", self.set_faults, methods=["POST"]),
            Route("/_sim/faults", self.clear_faults, methods=["DELETE"]),
            Route("/_sim/fail-next", self.fail_next, methods=["POST"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={404: self.not_found, 405: self.not_allowed},
        )

    def _search_endpoint(self, content_type: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return await self.search(request, content_type)

        return endpoint

    def _refusal(self, request: Request) -> Response | None:
        """The answer of the edge to a request that breaks the access rules, or None."""
        missing = [h for h in MANDATORY_HEADERS if not request.headers.get(h)]
        partner_q, partner_h = (
            request.query_params.get("partner"),
            request.headers.get("x-partner-name"),
        )
        if not partner_q:
            missing.insert(0, "partner (query parameter)")
        if not partner_h:
            missing.append("x-partner-name")
        if missing:
            return error(400, f"missing: {', '.join(missing)}")
        if partner_q != self.config.partner_id or partner_h != self.config.partner_id:
            return error(403, "unknown partner")
        token = request.headers.get("hdnea")
        if not token:
            return error(403, "missing hdnea token")
        problem = verify_token(self.config.secret, token)
        if problem is not None:
            return error(403, problem)
        wait = self.limiter.wait(partner_q)
        if wait:
            return error(429, "rate limit exceeded", {"Retry-After": str(math.ceil(wait))})
        return None

    async def search(self, request: Request, content_type: str) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if not self.catalog.ready(content_type):
            # The type's first search makes its items: off the event loop, which keeps
            # serving the other types meanwhile.
            await asyncio.to_thread(self.catalog.collection, content_type)
        coll = self.catalog.collection(content_type)
        query = parse_query(coll.kind, dict(request.query_params), self.config.bounds)
        if isinstance(query, str):
            return error(400, query)
        fault = self.faults.draw()
        if fault == "error":
            return error(503, "service unavailable (simulated)")
        if fault == "rate_limit":
            return error(429, "rate limit exceeded (simulated)", {"Retry-After": "1"})
        if fault == "forbidden":
            return error(403, "forbidden (simulated)")
        if fault in ECHOES:
            body = ECHOES[fault](request.headers.get("hdnea", ""))
            return Response(body, status_code=400, media_type="text/plain")
        if fault == "gzip_bomb":
            bomb = await asyncio.to_thread(gzip_bomb)
            return JSONBytes(bomb, headers={"Content-Encoding": "gzip"})
        if self.faults.churn_due():
            self.catalog.churn(self.faults.settings.churn_items, content_type)
        total, page = coll.search(query)
        following = query.offset + query.size
        results = {
            "totalResults": total,
            "offset": query.offset,
            "size": query.size,
            "nextOffsetURL": (
                str(request.url.include_query_params(offset=following))
                if following < total
                else None
            ),
            "totalPageResults": len(page),
            "totalPages": math.ceil(total / query.size),
        }
        items = b"[" + b",".join(e.data for e in page) + b"]"
        if fault in ODD_ENVELOPES:
            items, results = ODD_ENVELOPES[fault](items, results)
        body = b"".join(
            (b'{"body":{"results":{"items":', items, b",", orjson.dumps(results)[1:], b"}", OK_TAIL)
        )
        if fault == "slow":
            await asyncio.sleep(self.faults.settings.slow_seconds)
        if fault == "drop":
            return DroppedResponse(body)
        return JSONBytes(body)

    async def day(self, request: Request) -> Response:
        changes = await _json_object(request)
        if isinstance(changes, Response):
            return changes
        content_type = request.query_params.get("type", "movie")
        try:
            result = self.catalog.apply_day(**_as_ints(changes), content_type=content_type)
        except (ConfigError, TypeError) as exc:
            return error(400, str(exc))
        return JSONBytes(orjson.dumps(dataclasses.asdict(result)))

    async def truth(self, request: Request) -> Response:
        try:
            body = self.catalog.truth_json(request.query_params.get("type", "movie"))
        except ConfigError as exc:
            return error(400, str(exc))
        return JSONBytes(body)

    def _faults_body(self) -> Response:
        body = dataclasses.asdict(self.faults.settings) | {"forced": self.faults.forced}
        return JSONBytes(orjson.dumps(body))

    async def get_faults(self, request: Request) -> Response:
        return self._faults_body()

    async def set_faults(self, request: Request) -> Response:
        changes = await _json_object(request)
        if isinstance(changes, Response):
            return changes
        try:
            self.faults.set(**changes)
        except ConfigError as exc:
            return error(400, str(exc))
        return self._faults_body()

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return self._faults_body()

    async def fail_next(self, request: Request) -> Response:
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        try:
            self.faults.fail_next(int(body.get("count", 1)), body.get("kind", "error"))
        except (ConfigError, TypeError, ValueError) as exc:
            return error(400, str(exc))
        return self._faults_body()

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return error(404, f"no such path: {request.url.path}")

    async def not_allowed(self, request: Request, exc: Exception) -> Response:
        return error(405, f"{request.method} is not allowed on {request.url.path}")


async def _json_object(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return error(400, "the body must be JSON")
    if not isinstance(body, dict):
        return error(400, "the body must be a JSON object")
    return body


def _as_ints(values: dict[str, Any]) -> dict[str, int]:
    """Counts as integers (a JSON body may say 5.0)."""
    converted: dict[str, int] = {}
    for name, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            converted[name] = int(value)
        else:
            raise ConfigError(f"{name} must be a number")
    return converted

"""One request to the partner API, in one place.

Every request goes through `PartnerClient.search`: headers from the settings, a fresh token,
pacing at HOTSTAR_RATE_LIMIT_RPS (a limiter shared by every request of the client, since the
partner's limit is per partner, not per endpoint), and the API guide's rules for trouble:

- 429: wait and retry: Retry-After (seconds or an HTTP date) when given, at most the
  breaker's wait; else 1 s, doubling each retry up to the breaker's wait;
- 5xx, or no whole answer within HOTSTAR_REQUEST_TIMEOUT_SECONDS (a body that trickles in
  counts as no answer): the circuit breaker waits HOTSTAR_CIRCUIT_BREAKER_SECONDS, then
  retries;
- an answer slower than HOTSTAR_SLOW_RESPONSE_SECONDS is kept (it is complete and valid) but
  opens the breaker, so the next request waits HOTSTAR_CIRCUIT_BREAKER_SECONDS;
- dropped connections, truncated or undecodable bodies: retried with exponential backoff;
- 403: one fresh token and one retry; a 403 with a fresh token is an `AuthError`;
- a 200 whose envelope reports an error (`statusCodeValue`): 5xx and 429 are retried as
  above, any other 4xx is an `ApiError`.

Retries are bounded by HOTSTAR_MAX_RETRIES (tenacity); when they run out the last failure
surfaces as `RetriesExhaustedError`. The client knows no database.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
import structlog
from pyrate_limiter import InMemoryBucket, Limiter, Rate
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type
from tenacity.stop import stop_after_attempt

from hotstar_sync.api import answer
from hotstar_sync.api.token import TokenProvider
from hotstar_sync.config import Settings
from hotstar_sync.errors import (
    ApiError,
    AuthError,
    MalformedAnswerError,
    NetworkError,
    RateLimitedError,
    RetriesExhaustedError,
    ServerError,
    SlowResponseError,
    TransientError,
)

log = structlog.get_logger(__name__)

#: First backoff after a dropped connection; doubles each retry, capped at the breaker wait.
NETWORK_BACKOFF_SECONDS = 0.5
#: First wait after a 429 without Retry-After; doubles each retry, capped likewise.
RATE_LIMITED_BACKOFF_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One answer of a search endpoint."""

    #: The items as served: objects, mostly; anything else (a string, null, an `Unparsed`
    #: item) is quarantined by the validator.
    items: list[Any]
    total_results: int
    offset: int
    size: int


@dataclass
class ClientStats:
    """What a run reports: every HTTP attempt counts as a request the partner saw."""

    requests: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)


class Pacer:
    """Spaces requests at `rps` (burst 1) and holds them while the circuit breaker is open."""

    def __init__(self, rps: float, sleep: Callable[[float], None] = time.sleep) -> None:
        # 50 ms over the interval: requests leave evenly spaced, but arrive with a few ms of
        # network and scheduling jitter, and the partner counts arrivals (a 5 ms margin drew
        # 429s at 1 request/s). It costs 5% at 1 request/s, inside the 1.1 x floor.
        self._limiter = (
            Limiter(InMemoryBucket([Rate(1, max(1, round(1000 / rps)))]), buffer_ms=50)
            if rps > 0
            else None
        )
        self._sleep = sleep
        self._open_until = 0.0
        self._lock = threading.Lock()

    def open_breaker(self, seconds: float) -> None:
        with self._lock:
            self._open_until = max(self._open_until, time.monotonic() + seconds)

    def wait_turn(self) -> None:
        with self._lock:
            pause = self._open_until - time.monotonic()
        if pause > 0:
            self._sleep(pause)
        if self._limiter is not None:
            self._limiter.try_acquire("partner")


class PartnerClient:
    """Search requests to the partner API with pacing, retries, breaker and token refresh."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._partner = settings.resolved_partner_id()
        self._pacer = pacer or Pacer(settings.rate_limit_rps, sleep)
        self._sleep = sleep
        self.stats = ClientStats()
        self._http = httpx.Client(
            base_url=settings.api_base_url,
            transport=transport,
            timeout=httpx.Timeout(settings.request_timeout_seconds),
            headers={
                "x-partner-name": self._partner,
                "x-country-code": settings.country_code,
                "x-platform-code": settings.platform_code,
                "x-region-code": settings.region_code,
                "x-client-code": settings.client_code,
                "accept": "application/json",
            },
        )

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def search(self, path: str, params: Mapping[str, Any]) -> SearchPage:
        """GET `path` with `params` (filters, order, offset, size); retried per the guide."""
        query = {"partner": self._partner, **{k: _param(v) for k, v in params.items()}}
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self._settings.max_retries + 1),
            wait=self._wait_before_retry,
            sleep=self._sleep,
            before_sleep=self._note_retry,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._authorised_get(path, query)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise RetriesExhaustedError(
                f"{path} {_describe(params)}: still failing after "
                f"{self._settings.max_retries} retries ({last})",
                hint="the partner API may be down; the next run resumes from here",
                path=path,
                params=dict(params),
            ) from last
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _authorised_get(self, path: str, query: dict[str, str]) -> SearchPage:
        response, body = self._send(path, query, fresh_token=False)
        if response.status_code == 403:
            # A token can expire between issue and use; one fresh token settles that.
            response, body = self._send(path, query, fresh_token=True)
            if response.status_code == 403:
                raise AuthError(
                    f"{path}: the partner API refused a freshly made token (HTTP 403)",
                    path=path,
                )
        return self._parse(path, query, response, body)

    def _send(
        self, path: str, query: dict[str, str], *, fresh_token: bool
    ) -> tuple[httpx.Response, bytes]:
        """One GET: the response (status, headers) and its body, read whole."""
        token = self._tokens.refresh() if fresh_token else self._tokens.current()
        self._pacer.wait_turn()
        self.stats.requests += 1
        started = time.monotonic()
        limit = self._settings.request_timeout_seconds
        try:
            with self._http.stream(
                "GET", path, params=query, headers={"hdnea": token.value}
            ) as response:
                # The body goes to the caller, not into the response: an httpx response and
                # its stream refer to each other, so a body kept there (~2.4 MB a page) would
                # live until the garbage collector's next run, which a pass keeps rare.
                chunks, size, cap = [], 0, self._settings.max_body_mb * 1e6
                for chunk in response.iter_bytes():  # decoded: gzip inflated as it comes
                    chunks.append(chunk)
                    size += len(chunk)
                    # httpx's timeout bounds each read; this bounds the whole answer.
                    if time.monotonic() - started > limit:
                        raise SlowResponseError(f"{path}: no whole answer within {limit:g} s")
                    if size > cap:  # a gzip bomb, or a proxy gone mad: not a search answer
                        raise MalformedAnswerError(
                            f"{path}: answer over {self._settings.max_body_mb:g} MB decoded "
                            "(HOTSTAR_MAX_BODY_MB); read no further"
                        )
                body = b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise SlowResponseError(f"{path}: no answer within {limit:g} s") from exc
        except httpx.HTTPError as exc:  # dropped connections, undecodable bodies, ...
            raise NetworkError(f"{path}: {type(exc).__name__}: {exc}") from exc
        elapsed = time.monotonic() - started
        log.debug(
            "request",
            path=path,
            filters=_describe(query),
            status=response.status_code,
            seconds=round(elapsed, 3),
            bytes=len(body),
        )
        if elapsed > self._settings.slow_response_seconds:
            log.warning("slow response: circuit breaker open", path=path, seconds=round(elapsed, 1))
            self._pacer.open_breaker(self._settings.circuit_breaker_seconds)
        return response, body

    def _parse(
        self, path: str, query: dict[str, str], response: httpx.Response, body: bytes
    ) -> SearchPage:
        status = response.status_code
        if status == 429:
            error = RateLimitedError(f"{path}: rate limited (HTTP 429)")
            error.retry_after = _retry_after(response)
            raise error
        if status >= 500:
            raise ServerError(f"{path}: HTTP {status}")
        if status != 200:
            said = _short_body(body, self._tokens.scrub)
            raise ApiError(
                f"{path} {_describe(query)}: HTTP {status}: {said}",
                path=path,
                status=status,
            )
        try:
            document = answer.loads(body)
        except orjson.JSONDecodeError as exc:
            # Not even the envelope parses: the body was cut short on the way. Try again.
            raise NetworkError(f"{path}: truncated or invalid JSON body") from exc
        inner = document.get("statusCodeValue") if isinstance(document, dict) else None
        if isinstance(inner, int) and inner >= 400:
            # An error told inside a 200 (the envelope's own status): not an empty window.
            if inner >= 500:
                raise ServerError(f"{path}: HTTP 200 with statusCodeValue {inner}")
            if inner == 429:
                raise RateLimitedError(
                    f"{path}: HTTP 200 with statusCodeValue 429", retry_after=None
                )
            raise ApiError(
                f"{path} {_describe(query)}: HTTP 200 with statusCodeValue {inner}: "
                f"{_short_body(body, self._tokens.scrub)}",
                path=path,
                status=inner,
            )
        return _search_page(path, query, document)

    def _wait_before_retry(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        breaker = self._settings.circuit_breaker_seconds
        doubling = 2 ** (state.attempt_number - 1)
        if isinstance(error, RateLimitedError):
            rps = self._settings.rate_limit_rps
            longest = max(breaker, 1.0 / rps if rps > 0 else 1.0)
            if error.retry_after is not None:
                return min(error.retry_after, longest)
            return float(min(RATE_LIMITED_BACKOFF_SECONDS * doubling, longest))
        if isinstance(error, ServerError | SlowResponseError):
            return breaker
        return float(min(NETWORK_BACKOFF_SECONDS * doubling, breaker))

    def _note_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        self.stats.retries += 1
        self.stats.errors.append(str(error))
        log.warning(
            "retrying request",
            error=str(error),
            attempt=state.attempt_number,
            wait=round(state.upcoming_sleep, 2),
        )


#: The largest totalResults taken as a count: the sync log keeps counts in 32-bit columns,
#: and no catalogue of the guide comes near (episodes: 686,432).
MAX_TOTAL = 2**31 - 1


def _search_page(path: str, query: Mapping[str, str], document: Any) -> SearchPage:
    """The page an answer holds, or `MalformedAnswerError` naming what is wrong with it."""
    where = f"{path} {_describe(query)}"
    try:
        results = document["body"]["results"]
    except (KeyError, TypeError) as exc:
        raise MalformedAnswerError(f"{where}: answer without body.results") from exc
    if not isinstance(results, dict):
        raise MalformedAnswerError(f"{where}: body.results is not an object")
    items, total = results.get("items"), results.get("totalResults")
    if not isinstance(items, list):
        raise MalformedAnswerError(
            f"{where}: body.results.items is {_json_type(items)}, not a list of items"
        )
    if isinstance(total, float) and total.is_integer():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= MAX_TOTAL:
        raise MalformedAnswerError(
            f"{where}: totalResults {_short(total)} is not a count from 0 to {MAX_TOTAL:,}"
        )
    return SearchPage(
        items=items,
        total_results=total,
        offset=_int(results.get("offset"), query.get("offset", 0)),
        size=_int(results.get("size"), query.get("size", 0)),
    )


def _int(value: Any, default: Any) -> int:
    """An envelope's echo of offset or size; the request's own value when it is odd."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(default)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _short(value: Any) -> str:
    text = orjson.dumps(value, default=repr).decode()
    return text if len(text) <= 40 else text[:37] + "..."


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _describe(params: Mapping[str, Any]) -> str:
    """The filters of a request, for messages: no partner id, never a header."""
    return " ".join(f"{k}={v}" for k, v in params.items() if k != "partner")


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds from now: a number of seconds or an HTTP date (RFC 9110)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _short_body(body: bytes, scrub: Callable[[str], str]) -> str:
    """The start of an error body, for the message (and so the sync log): one line, without
    the token or the secret should the body echo them (`TokenProvider.scrub`)."""
    text = body.decode(errors="replace").strip().replace("\n", " ")
    return scrub(text)[:200] or "(empty body)"

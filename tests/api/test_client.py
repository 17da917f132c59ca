"""PartnerClient against a scripted partner API over real HTTP."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hotstar_sync.api.client import PartnerClient
from hotstar_sync.api.token import Token, TokenProvider
from hotstar_sync.config import DEMO_AKAMAI_SECRET, DEMO_PARTNER_ID, load_settings
from hotstar_sync.errors import ApiError, AuthError, RetriesExhaustedError
from tests.api.scripted_server import ScriptedApi, serve

KEY = bytes.fromhex(DEMO_AKAMAI_SECRET)


@pytest.fixture
def api() -> Iterator[tuple[ScriptedApi, str]]:
    app = ScriptedApi()
    with serve(app) as url:
        yield app, url


def make_client(url: str, issued: list[Token] | None = None, **overrides: Any) -> PartnerClient:
    options: dict[str, Any] = {
        "api_base_url": url,
        "rate_limit_rps": 0,
        "circuit_breaker_seconds": 1,
        "slow_response_seconds": 1,
        "max_retries": 3,
    }
    options.update(overrides)
    settings = load_settings(**options)
    on_new = issued.append if issued is not None else None
    tokens = TokenProvider(KEY, settings.token_window_seconds, on_new)
    return PartnerClient(settings, tokens)


def gaps(api: ScriptedApi) -> list[float]:
    times = [r.at for r in api.received]
    return [b - a for a, b in itertools.pairwise(times)]


def test_every_request_carries_partner_headers_and_a_valid_token(api):
    app, url = api
    with make_client(url) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 2, "premium": True})
    assert [item["contentId"] for item in page.items] == ["1000", "1001"]
    assert page.total_results == 3
    got = app.received[0]
    assert got.params == {"partner": DEMO_PARTNER_ID, "offset": "0", "size": "2", "premium": "true"}
    assert got.headers["x-partner-name"] == DEMO_PARTNER_ID
    for name in ("x-country-code", "x-platform-code", "x-region-code", "x-client-code", "hdnea"):
        assert got.headers[name]
    assert client.stats.requests == 1


def test_requests_are_paced_at_the_configured_rate(api):
    app, url = api
    with make_client(url, rate_limit_rps=5) as client:
        for offset in range(4):
            client.search("/movie/search", {"offset": offset, "size": 1})
    assert len(app.received) == 4
    assert min(gaps(app)) >= 0.19


def test_429_waits_for_retry_after_then_retries(api):
    app, url = api
    app.script = ["429"]
    with make_client(url) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 2 and client.stats.retries == 1
    assert gaps(app)[0] >= 1.0  # Retry-After: 1


def test_429_without_retry_after_backs_off_doubling(api):
    app, url = api
    app.script = ["429-bare", "429-bare", "429-bare"]
    with make_client(url, circuit_breaker_seconds=3) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 4
    waits = gaps(app)
    assert waits[0] >= 1.0 and waits[1] >= 2.0 and waits[2] >= 3.0  # 1, 2, then the cap of 3
    assert waits[2] < 3.9


def test_429_takes_retry_after_as_an_http_date_and_caps_it_at_the_breaker(api):
    app, url = api
    app.script = ["429-date:3", "429-huge"]
    with make_client(url, circuit_breaker_seconds=1.5) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 3
    waits = gaps(app)
    # The date is ~3 s ahead (to the second): waited, but no longer than the breaker's 1.5 s.
    assert 1.5 <= waits[0] < 2.4
    # Retry-After: 1e12 (31,700 years) is waited for 1.5 s, not slept on (nor an OverflowError).
    assert 1.5 <= waits[1] < 2.4


def test_an_answer_trickling_in_past_the_timeout_is_retried_after_the_breaker(api):
    app, url = api
    app.script = ["trickle:2.5"]
    with make_client(url, request_timeout_seconds=1, circuit_breaker_seconds=1) as client:
        started = time.monotonic()
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 2
    assert "no whole answer within 1 s" in client.stats.errors[0]
    # Given up after ~1 s of the 2.5 s trickle, then the breaker's 1 s.
    assert 2.0 <= gaps(app)[0] < 2.5 and time.monotonic() - started < 3.0


def test_a_body_that_cannot_be_decoded_is_retried(api):
    app, url = api
    app.script = ["gzipbad"]
    with make_client(url) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 2
    assert "DecodingError" in client.stats.errors[0]


def test_5xx_opens_the_breaker_before_retrying(api):
    app, url = api
    app.script = ["500", "500"]
    with make_client(url, circuit_breaker_seconds=1) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 3
    assert all(gap >= 1.0 for gap in gaps(app))


def test_slow_answer_is_kept_but_the_next_request_waits_for_the_breaker(api):
    app, url = api
    app.script = ["slow:1.3"]
    with make_client(url, slow_response_seconds=1, circuit_breaker_seconds=1) as client:
        first = client.search("/movie/search", {"offset": 0, "size": 1})
        client.search("/movie/search", {"offset": 1, "size": 1})
    assert first.items and client.stats.requests == 2
    # The second request left at least a breaker's wait after the slow answer arrived.
    assert gaps(app)[0] >= 1.3 + 1.0


def test_no_answer_within_the_timeout_is_retried_after_the_breaker(api):
    app, url = api
    app.script = ["slow:2"]
    with make_client(url, request_timeout_seconds=0.5, circuit_breaker_seconds=1) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and client.stats.requests == 2 and gaps(app)[0] >= 1.5


@pytest.mark.parametrize("fault", ["drop", "badjson"])
def test_dropped_connections_and_truncated_bodies_are_retried(api, fault):
    app, url = api
    app.script = [fault, fault]
    with make_client(url) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 3})
    assert len(page.items) == 3 and client.stats.requests == 3


def test_a_403_gets_one_fresh_token_and_one_retry(api):
    app, url = api
    app.script = ["403"]
    issued: list[Token] = []
    with make_client(url, issued) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 1})
    assert page.items and len(issued) == 2 and client.stats.requests == 2


def test_a_403_with_a_fresh_token_fails_fast_with_the_likely_causes(api):
    app, url = api
    app.script = ["403", "403", "403", "403"]
    started = time.monotonic()
    with make_client(url) as client, pytest.raises(AuthError) as caught:
        client.search("/movie/search", {"offset": 0, "size": 1})
    assert time.monotonic() - started < 3
    assert (
        str(caught.value)
        == "/movie/search: the partner API refused a freshly made token (HTTP 403)"
    )
    assert "HOTSTAR_AKAMAI_SECRET" in (caught.value.hint or "")
    assert "allow-list" in (caught.value.hint or "")
    assert len(app.received) == 2


def test_wrong_secret_is_refused_by_the_server_and_reported_as_auth_error(api):
    app, url = api
    app.key = bytes.fromhex("00ff")
    with make_client(url) as client, pytest.raises(AuthError):
        client.search("/movie/search", {"offset": 0, "size": 1})


def test_retries_are_bounded(api):
    app, url = api
    app.script = ["500"] * 10
    client = make_client(url, max_retries=2, circuit_breaker_seconds=0.2)
    with client, pytest.raises(RetriesExhaustedError) as caught:
        client.search("/movie/search", {"offset": 0, "size": 1})
    assert len(app.received) == 3
    assert "still failing after 2 retries (/movie/search: HTTP 503)" in str(caught.value)


def test_a_client_error_is_not_retried_and_says_what_the_server_said(api):
    app, url = api
    app.script = ["400"]
    with make_client(url) as client, pytest.raises(ApiError) as caught:
        client.search("/movie/search", {"offset": 9500, "size": 1000})
    assert len(app.received) == 1
    assert str(caught.value) == (
        "/movie/search offset=9500 size=1000: HTTP 400: "
        '{"error":"offset + size must not exceed 10000"}'
    )


def test_tokens_are_renewed_before_they_expire(api):
    _, url = api
    issued: list[Token] = []
    with make_client(url, issued, token_window_seconds=2, rate_limit_rps=2) as client:
        for offset in range(8):  # about 3.5 s: longer than one token's life
            client.search("/movie/search", {"offset": offset, "size": 1})
    assert len(issued) >= 2
    assert client.stats.requests == 8  # no 403 was ever needed


def test_no_token_or_secret_reaches_a_message_or_a_log(api, capsys):
    app, url = api
    app.script = ["500", "drop", "429", "403", "403"]
    issued: list[Token] = []
    client = make_client(url, issued, circuit_breaker_seconds=0.1)
    with client, pytest.raises(AuthError) as caught:
        client.search("/movie/search", {"offset": 0, "size": 1})
    captured = capsys.readouterr()
    text = captured.out + captured.err + str(caught.value) + " ".join(client.stats.errors)
    for token in issued:
        assert token.value not in text and token.value.split("~hmac=")[1] not in text
    assert DEMO_AKAMAI_SECRET not in text
    assert "hdnea" not in text


def test_an_error_body_echoing_the_token_does_not_carry_its_signature(api):
    # The message goes to stderr and into the sync log for good; a token there would be
    # usable until it expires.
    app, url = api
    app.script = ["400-echo"]
    issued: list[Token] = []
    with make_client(url, issued) as client, pytest.raises(ApiError) as caught:
        client.search("/movie/search", {"offset": 0, "size": 1})
    (token,) = issued
    assert token.value.split("~hmac=")[1] not in str(caught.value)
    assert "[redacted]" in str(caught.value)


def test_an_error_inside_a_200_envelope_is_retried_not_taken_for_an_empty_window(api):
    app, url = api
    app.script = ["200-error", "200-error:429"]
    with make_client(url) as client:
        page = client.search("/movie/search", {"offset": 0, "size": 3})
        app.script = ["200-error:201"]  # no error: its (empty) page is taken as it is
        assert client.search("/movie/search", {"offset": 0, "size": 3}).items == []
    assert len(page.items) == 3 and page.total_results == 3 and client.stats.requests == 4
    assert client.stats.errors == [
        "/movie/search: HTTP 200 with statusCodeValue 500",
        "/movie/search: HTTP 200 with statusCodeValue 429",
    ]
    app.script = ["200-error:404"]
    with make_client(url) as client, pytest.raises(ApiError, match="statusCodeValue 404"):
        client.search("/movie/search", {"offset": 0, "size": 3})

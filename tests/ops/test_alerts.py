"""`health --alert`: findings delivered through apprise to a local webhook, never a secret."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hotstar_sync.api.token import make_token
from hotstar_sync.redact import REDACTED, redact
from tests.ops.conftest import add_run, cli, utc

SECRET = "5e" * 16


class Receiver:
    """A webhook on a free loopback port that keeps every request it is sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append({"path": self.path, "body": self.rfile.read(length).decode()})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_a_critical_finding_is_posted_without_the_secret_or_a_token(
    log_db: str, receiver: Receiver
) -> None:
    token = make_token(bytes.fromhex(SECRET), 2000).value
    add_run(log_db, "initial", "completed", ago=timedelta(days=2))
    # A reason that should never have held them, to prove the alert scrubs it anyway.
    run = add_run(
        log_db,
        "daily",
        "failed",
        ago=timedelta(hours=1),
        errors=[f"403 with hdnea={token} and key {SECRET.upper()}"],
    )

    result = cli(
        log_db, "health", "--alert", HOTSTAR_ALERT_URLS=receiver.url, HOTSTAR_AKAMAI_SECRET=SECRET
    )

    assert result.exit_code == 2
    assert result.stderr == ""
    (request,) = receiver.requests
    assert request["path"] == "/hook"
    body = json.loads(request["body"])
    assert body["title"] == "hotstar-sync health: CRITICAL"
    assert body["type"] == "failure"
    assert body["message"] == (
        f"CRITICAL: last daily sync failed at {utc(run.completed_at)}: "
        f"403 with {REDACTED} and key {REDACTED}"
    )
    raw = request["body"].lower()
    assert SECRET not in raw and token.lower() not in raw and "hmac=" not in raw


def test_a_warning_is_posted_as_a_warning(log_db: str, receiver: Receiver) -> None:
    add_run(log_db, "initial", "completed", ago=timedelta(days=2))
    add_run(log_db, "daily", "incomplete", ago=timedelta(hours=1))
    result = cli(log_db, "health", "--alert", HOTSTAR_ALERT_URLS=receiver.url)
    assert result.exit_code == 1
    (request,) = receiver.requests
    body = json.loads(request["body"])
    assert (body["title"], body["type"]) == ("hotstar-sync health: WARNING", "warning")


def test_nothing_is_sent_when_all_is_ok(log_db: str, receiver: Receiver) -> None:
    add_run(log_db, "initial", "completed", ago=timedelta(days=2))
    add_run(log_db, "daily", "completed", ago=timedelta(hours=1))
    result = cli(log_db, "health", "--alert", HOTSTAR_ALERT_URLS=receiver.url)
    assert result.exit_code == 0
    assert receiver.requests == []


def test_an_unreadable_database_is_alerted_as_unknown(receiver: Receiver) -> None:
    result = cli(
        "postgresql://x@127.0.0.1:1/x", "health", "--alert", HOTSTAR_ALERT_URLS=receiver.url
    )
    assert result.exit_code == 3
    (request,) = receiver.requests
    assert json.loads(request["body"])["title"] == "hotstar-sync health: UNKNOWN"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_failed_delivery_is_reported_and_keeps_the_health_exit_code(log_db: str) -> None:
    result = cli(
        log_db,
        "health",
        "--alert",
        HOTSTAR_ALERT_URLS=f"json://127.0.0.1:{_closed_port()}/hook not-a-url",
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "alert: 1 of the HOTSTAR_ALERT_URLS is not a valid apprise URL",
        "alert: delivery failed (1 destination(s) tried)",
    ]


def test_without_alert_urls_nothing_is_sent_and_it_says_so(log_db: str) -> None:
    result = cli(log_db, "health", "--alert", HOTSTAR_ALERT_URLS="")
    assert result.exit_code == 2
    assert result.stderr == "alert: HOTSTAR_ALERT_URLS is empty; nothing sent\n"


@pytest.mark.parametrize(
    "text",
    [
        "st=1700000000~exp=1700002000~acl=/*~hmac=0a1b2c",
        "hdnea=st=1~exp=2~acl=/*~hmac=ABCDEF0123",
        "hmac=deadbeef",
        # As an error body may echo it: percent-encoded (once, twice, either case) and
        # JSON-escaped.
        "hdnea=st%3D1~exp%3D2~acl%3D%2F%2A~hmac%3D" + "ab" * 32,
        "st%3D1%7Eexp%3D2%7Eacl%3D%2F%2A%7Ehmac%3d" + "AB" * 32,
        "hdnea%3Dst%253D1~exp%253D2~hmac%253D" + "cd" * 32,
        "st\\u003d1\\u007eexp\\u003d2\\u007ehmac\\u003d" + "ef" * 32,
        "hmac\\\\u003d" + "01" * 32,
    ],
)
def test_redact_removes_any_token_form(text: str) -> None:
    assert redact(f"before {text} after", []) == f"before {REDACTED} after"


def test_redact_removes_the_secret_in_either_case() -> None:
    assert redact(f"a{SECRET.upper()}b {SECRET}", [SECRET]) == f"a{REDACTED}b {REDACTED}"

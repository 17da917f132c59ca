"""Akamai EdgeAuth tokens: `st=<start>~exp=<end>~acl=/*~hmac=<hex>`.

The hmac is HMAC-SHA256, keyed with the partner secret (hex, decoded to bytes), over the
text before `~hmac=` (API guide, "Every request"). The format is one line of the standard
library, so it is written here rather than taken from the unmaintained `akamai-edgeauth`
package (last release 2018). The same module verifies tokens for the simulator.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hotstar_sync.redact import redact

ACL = "/*"
#: A token starts this long before our clock's now: an edge whose clock runs behind ours
#: (by up to this much) would otherwise find it "not yet valid" and answer 403. It ends
#: the window after now, as asked.
CLOCK_LEEWAY_SECONDS = 60
#: Make a new token when the current one has less than this fraction of its window left.
REFRESH_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    start: int  # `st`: CLOCK_LEEWAY_SECONDS before it was made
    expires: int
    made: int  # when it was made (our clock)

    @property
    def fingerprint(self) -> str:
        """A short hash prefix that identifies a token in the database without revealing it."""
        return hashlib.sha256(self.value.encode()).hexdigest()[:16]

    def __repr__(self) -> str:  # never show the value itself
        return (
            f"Token(fingerprint={self.fingerprint!r}, start={self.start}, expires={self.expires})"
        )


def _signature(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def make_token(
    key: bytes,
    window_seconds: int,
    *,
    now: float | None = None,
    leeway: int = CLOCK_LEEWAY_SECONDS,
) -> Token:
    """A token valid until `window_seconds` from now, and from `leeway` seconds before now."""
    moment = int(time.time() if now is None else now)
    start, expires = moment - leeway, moment + window_seconds
    payload = f"st={start}~exp={expires}~acl={ACL}"
    return Token(f"{payload}~hmac={_signature(key, payload)}", start, expires, moment)


def verify_token(key: bytes, value: str, *, now: float | None = None) -> str | None:
    """Why `value` is not a valid token now, or None when it is."""
    payload, sep, mac = value.rpartition("~hmac=")
    if not sep:
        return "malformed token"
    fields = dict(part.partition("=")[::2] for part in payload.split("~"))
    try:
        start, expires = int(fields["st"]), int(fields["exp"])
    except (KeyError, ValueError):
        return "malformed token"
    if fields.get("acl") != ACL:
        return "malformed token"
    if not hmac.compare_digest(_signature(key, payload), mac):
        return "bad signature"
    moment = time.time() if now is None else now
    if not start <= moment < expires:
        return "token expired" if moment >= expires else "token not yet valid"
    return None


class TokenProvider:
    """Hands out a valid token, making a new one shortly before the current one expires.

    `on_new_token` is told of each new token (a job records its times and fingerprint in
    `hotstar_api_tokens`); it never receives the secret.
    """

    def __init__(
        self,
        key: bytes,
        window_seconds: int,
        on_new_token: Callable[[Token], None] | None = None,
    ) -> None:
        self._key = key
        self._window = window_seconds
        self._on_new_token = on_new_token
        self._token: Token | None = None
        self._lock = threading.Lock()

    def scrub(self, text: str) -> str:
        """`text` without any token or this provider's secret (`redact`)."""
        return redact(text, [self._key.hex()])

    def current(self) -> Token:
        with self._lock:
            token = self._token
            margin = max(1.0, self._window * REFRESH_FRACTION)
            if token is None or time.time() >= token.expires - margin:
                token = self._new_token()
            return token

    def refresh(self) -> Token:
        """A brand-new token, whatever the age of the current one (after a 403)."""
        with self._lock:
            return self._new_token()

    def _new_token(self) -> Token:
        token = make_token(self._key, self._window)
        self._token = token
        if self._on_new_token is not None:
            self._on_new_token(token)
        return token

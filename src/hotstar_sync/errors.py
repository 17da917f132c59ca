"""Every error hotstar-sync raises, grouped by what the caller does about it.

::

    HotstarSyncError                 base; never raised itself
    ├── ConfigError                  fix your settings or options          exit 2
    ├── TransientError               retried inside the client; surfaces only
    │   │                            when the retries run out
    │   ├── RateLimitedError         HTTP 429
    │   ├── ServerError              HTTP 5xx
    │   ├── SlowResponseError        slower than HOTSTAR_SLOW_RESPONSE_SECONDS
    │   ├── NetworkError             connect/read errors, timeouts, truncated bodies
    │   └── MalformedAnswerError     an envelope without a list of items or a count
    ├── FatalError                   the run stops and is marked failed    exit 1
    │   ├── AuthError                403 even with a fresh token
    │   ├── ApiError                 an answer the contract does not allow (4xx, bad JSON)
    │   ├── RetriesExhaustedError    a TransientError that kept coming back
    │   └── DatabaseError            PostgreSQL refused or is unreachable
    ├── JobLockedError               another job holds the database's job lock  exit 3
    ├── DeletionGuardError           the deletion guard refused                 exit 4
    ├── IncompletePassError          a pass could not verify every window       exit 5
    │   └── DriftError               `verify` found the API and the mirror apart
    └── SkippableError               one bad item: quarantined, the run goes on
        └── InvalidItemError

`Terminated` (SIGTERM) is not in this tree: like Ctrl-C's KeyboardInterrupt, of which it is
a kind, it stops whatever runs, and the run is marked failed.

Third-party exceptions (httpx, psycopg, pydantic) are translated into these at the
boundary (``raise ... from exc``), so jobs and the CLI only ever see this tree.
Messages name settings, windows, offsets and run ids, never a token, a secret or a
header value.
"""

from __future__ import annotations

from typing import Any


class HotstarSyncError(Exception):
    """Base of every error raised by hotstar-sync."""

    exit_code: int = 1
    #: The next thing to try, printed after the message by the CLI.
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)


class ConfigError(HotstarSyncError):
    """A setting or option is missing or malformed; names the variable."""

    exit_code = 2


class TransientError(HotstarSyncError):
    """A failure that may go away when the request is tried again."""

    #: Seconds the server asked us to wait, when it said so.
    retry_after: float | None = None


class RateLimitedError(TransientError):
    """HTTP 429: over the partner's rate limit."""


class ServerError(TransientError):
    """HTTP 5xx from the partner API."""


class SlowResponseError(TransientError):
    """The response took longer than HOTSTAR_SLOW_RESPONSE_SECONDS."""


class NetworkError(TransientError):
    """Connection refused or dropped, timeout, or a truncated body."""


class MalformedAnswerError(TransientError):
    """A 200 whose envelope is no search answer: items not a list, totalResults no count.

    Retried like a truncated body (a proxy or a half-built index may answer so once); when
    it keeps coming, the run fails naming the window."""


class FatalError(HotstarSyncError):
    """The run cannot go on; it is marked failed."""


class AuthError(FatalError):
    """403 even with a freshly made token."""

    hint = (
        "check HOTSTAR_PARTNER_ID and HOTSTAR_AKAMAI_SECRET, that this machine's IP "
        "is on the partner's allow-list, and that its clock is right (NTP)"
    )


class ApiError(FatalError):
    """The API answered in a way its contract does not allow."""


class RetriesExhaustedError(FatalError):
    """A transient failure kept coming back after every retry."""


class DatabaseError(FatalError):
    """PostgreSQL refused a statement or cannot be reached."""


class JobLockedError(HotstarSyncError):
    """Another job holds this database's job lock."""

    exit_code = 3


class JobLockLostError(JobLockedError):
    """This job lost the job lock (its connection was closed) and another job took it or
    ran meanwhile: it stops before writing anything more."""


class DeletionGuardError(HotstarSyncError):
    """A pass would soft-delete more than the guard allows; nothing was deleted."""

    exit_code = 4
    hint = "inspect the run, then rerun with --force to apply the deletions"


class IncompletePassError(HotstarSyncError):
    """A pass could not verify every window; nothing was deleted."""

    exit_code = 5


class DriftError(IncompletePassError):
    """The API's counts and the mirror's differ (`verify`)."""


class SkippableError(HotstarSyncError):
    """One bad record; it is quarantined and the run goes on."""


class InvalidItemError(SkippableError):
    """An item that fails validation."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager's stop, `timeout`): stop like Ctrl-C, exit 143."""

    exit_code = 128 + 15

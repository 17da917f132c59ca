"""Operations: the scheduler, status, health and alerts, metrics and the status server.

Everything here reads the source database and writes nothing to it: `read_only` opens the
connections so that PostgreSQL itself refuses a write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hotstar_sync.db.connect import connect, connection_defaults
from hotstar_sync.errors import DatabaseError

Conn = psycopg.Connection[Any]
#: Where a reader gets a connection for the length of a `with` block.
Source = Callable[[], AbstractContextManager[Conn]]
#: How long a request waits for a pooled connection before it looks why there is none.
_SLICE = 0.25
_READ_ONLY = {"autocommit": True, "options": "-c default_transaction_read_only=on"}


def read_only(url: str) -> Conn:
    """An autocommit connection whose every statement runs in a read-only transaction."""
    return connect(url, **_READ_ONLY)


class ReadOnlyPool:
    """At most `size` read-only connections to `url`, reused: what the status server reads
    through, so that any number of concurrent requests opens no more backends than that.
    A request waits up to `wait` seconds for a free connection."""

    def __init__(self, url: str, size: int = 4, wait: float = 5.0) -> None:
        self.url = url
        self.wait = wait
        self._looking = threading.Lock()
        self._errors_seen = 0  # the pool's failed connection attempts, when last looked at
        self._away: tuple[float, DatabaseError] | None = None  # until when, and why
        self._pool = ConnectionPool(
            url,
            kwargs=connection_defaults(url) | _READ_ONLY,
            min_size=0,
            max_size=size,
            open=False,
            name="hotstar-sync-status",
        )

    def _check_away(self) -> None:
        """Raise why the database cannot be reached, when the pool failed to connect since
        the last look (one direct connection says why; the answer is kept 2 s)."""
        with self._looking:
            now = time.monotonic()
            if self._away is not None and now < self._away[0]:
                raise self._away[1]
            errors = self._pool.get_stats().get("connections_errors", 0)
            if errors <= self._errors_seen:
                return  # the pool connects: every connection is just busy
            self._errors_seen = errors
            try:
                with read_only(self.url):
                    self._away = None
            except DatabaseError as exc:
                self._away = (now + 2.0, exc)
                raise

    def open(self) -> None:
        self._pool.open()

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """A pooled connection. When none comes within `wait`: every connection is busy
        (`DatabaseError`); sooner, when the pool has none and cannot make one, the reason a
        direct connection gives (the database is away: say why, as the CLI would)."""
        deadline = time.monotonic() + self.wait
        while True:
            try:
                conn = self._pool.getconn(
                    timeout=min(_SLICE, max(0.0, deadline - time.monotonic()))
                )
                break
            except PoolTimeout:
                self._check_away()
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        f"no connection to the source database free within {self.wait:g} s"
                    ) from None
        try:
            yield conn
        finally:
            self._pool.putconn(conn)  # rolled back, or dropped if broken

"""Operations: the scheduler, status, health and alerts, metrics and the status server.

Everything here reads the source database and writes nothing to it: `read_only` opens the
connections so that PostgreSQL itself refuses a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from hotstar_sync.db.connect import CONNECTION_DEFAULTS, connect
from hotstar_sync.errors import DatabaseError

Conn = psycopg.Connection[Any]
#: Where a reader gets a connection for the length of a `with` block.
Source = Callable[[], AbstractContextManager[Conn]]
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
        given = conninfo_to_dict(url)
        defaults = {k: v for k, v in CONNECTION_DEFAULTS.items() if k not in given}
        self._pool = ConnectionPool(
            url,
            kwargs=defaults | _READ_ONLY,
            min_size=0,
            max_size=size,
            open=False,
            name="hotstar-sync-status",
        )

    def open(self) -> None:
        self._pool.open()

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """A pooled connection; when none comes within `wait`, the reason a direct
        connection gives (`DatabaseError`), or that every connection is busy."""
        if not self._pool.get_stats().get("pool_size"):
            # No connection yet, or none the pool could make: if the database is away, say
            # so at once, as the CLI would, rather than after `wait`.
            with read_only(self.url):
                pass
        try:
            conn = self._pool.getconn(timeout=self.wait)
        except PoolTimeout:
            with read_only(self.url):  # the database is away: say why, as the CLI would
                pass
            raise DatabaseError(
                f"no connection to the source database free within {self.wait:g} s"
            ) from None
        try:
            yield conn
        finally:
            self._pool.putconn(conn)  # rolled back, or dropped if broken

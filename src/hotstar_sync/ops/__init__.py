"""Operations: the scheduler, status, health and alerts, metrics and the status server.

Everything here reads the source database and writes nothing to it: `read_only` opens the
connections so that PostgreSQL itself refuses a write.
"""

from __future__ import annotations

from typing import Any

import psycopg

from hotstar_sync.db.connect import connect


def read_only(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection whose every statement runs in a read-only transaction."""
    return connect(url, autocommit=True, options="-c default_transaction_read_only=on")

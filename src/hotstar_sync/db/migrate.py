"""The source database's schema: upgrade it to the newest revision, or say where it is.

Alembic runs from a Config built here (no alembic.ini), so migrations work from an installed
package. SQLAlchemy only carries Alembic: the connection itself is opened by psycopg from the
plain `postgresql://` URL (through `hotstar_sync.db.connect.connect`), so every URL libpq
accepts — Unix sockets, `?host=`, percent-encoding — works unchanged, and a connection
failure is already our `DatabaseError`. Other SQLAlchemy, psycopg and Alembic errors become
a `DatabaseError` here: one line, never the password.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import psycopg
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.pool import NullPool

from hotstar_sync.db.connect import connect
from hotstar_sync.db.schema import UPGRADE_HINT, require_head
from hotstar_sync.errors import DatabaseError

__all__ = ["UPGRADE_HINT", "current", "head", "require_head", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

T = TypeVar("T")

#: Alembic keeps the running migration environment in module globals (`alembic.context`),
#: so two upgrades in threads of one process would trip over each other.
_ALEMBIC_LOCK = threading.Lock()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head() -> str:
    """The newest revision this version of hotstar-sync knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the package ships at least one revision"
    return revision


def _scrub(text: str, url: str) -> str:
    """`text` on one line, with the URL's password (if any) masked."""
    line = " ".join(text.split())
    password = urlsplit(url).password
    for secret in {password, unquote(password)} if password else ():
        line = line.replace(secret, "***")
    return line


def _reason(exc: BaseException) -> str:
    """The useful part of a driver error: psycopg's primary message, without SQL or params."""
    cause = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
    if isinstance(cause, psycopg.Error) and cause.diag.message_primary:
        return cause.diag.message_primary
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def _run(url: str, doing: str, action: Callable[[sqlalchemy.Connection], T]) -> T:
    """`action` on a SQLAlchemy connection for Alembic; errors become `DatabaseError`."""
    # NullPool: nothing stays connected afterwards (a database used as a template, or
    # dropped by the tests, must have no sessions left).
    engine = sqlalchemy.create_engine(
        "postgresql+psycopg://", creator=functools.partial(connect, url), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            return action(conn)
    except CommandError as exc:
        # Alembic's own errors: chiefly a version table naming a revision we do not ship.
        raise DatabaseError(
            f"cannot {doing}: {_scrub(str(exc), url)}",
            hint="the database was migrated by a newer hotstar-sync; upgrade the package",
        ) from exc
    except (sqlalchemy.exc.SQLAlchemyError, psycopg.Error) as exc:
        raise DatabaseError(f"cannot {doing}: {_scrub(_reason(exc), url)}") from exc
    finally:
        engine.dispose()


def upgrade(url: str) -> None:
    """Bring the schema at `url` to the newest revision; does nothing when it is there.

    Safe to run concurrently: an advisory lock (see migrations/env.py) serialises upgrades
    across processes, and `_ALEMBIC_LOCK` across threads of this one.
    """

    def action(conn: sqlalchemy.Connection) -> None:
        config = _config()
        config.attributes["connection"] = conn
        with _ALEMBIC_LOCK:
            command.upgrade(config, "head")

    _run(url, "upgrade the source database", action)


def current(url: str) -> str | None:
    """The revision the schema at `url` is at; None when it has never been migrated."""

    def action(conn: sqlalchemy.Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    return _run(url, "read the schema version", action)

"""Alembic's environment: run the revisions on the connection `hotstar_sync.db.migrate` opened.

There is no alembic.ini: the package builds its Config in code, so migrations work from an
installed wheel. The whole upgrade is one transaction (PostgreSQL DDL is transactional), so a
failed upgrade leaves the schema as it was.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

#: Key of the transaction-level advisory lock that serialises concurrent `db upgrade`s: the
#: second waits, then finds the version table at head and does nothing. Distinct from the
#: job lock (`hotstar_sync.db.runs`), so an upgrade never waits for a running sync.
MIGRATION_LOCK_KEY = 0x686F7473_6D696772  # "hotsmigr"


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        # Taken before Alembic reads the version table, so that read sees the winner's commit.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError("run migrations with hotstar_sync.db.migrate.upgrade(url)")
_run(connection)

"""`hotstar-sync db upgrade|current`: the source database's schema."""

from __future__ import annotations

import typer

from hotstar_sync.cli._app import db_app, handle_errors, settings
from hotstar_sync.db.connect import database_url


@db_app.command("upgrade")
@handle_errors
def upgrade() -> None:
    """Create the schema, or bring it to the newest revision; rerunning it does nothing."""
    from hotstar_sync.db import migrate  # Alembic: only for the commands that need it

    url = database_url(settings())
    before = migrate.current(url)
    migrate.upgrade(url)
    after = migrate.current(url)
    if before == after:
        typer.echo(f"database already at revision {after} (head)")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to revision {after} (head)")


@db_app.command("current")
@handle_errors
def current() -> None:
    """Print the schema's revision, and whether it is the newest this version knows.

    Exit 1 when it is not (no schema yet, or an older one): `db current || alert` works."""
    from hotstar_sync.db import migrate

    url = database_url(settings())
    revision, head = migrate.current(url), migrate.head()
    if revision == head:
        typer.echo(f"database at revision {revision} (head)")
        return
    if revision is None:
        typer.echo(f"database has no schema yet (head is {head})")
    else:
        typer.echo(f"database at revision {revision} (head is {head})")
    typer.echo(migrate.UPGRADE_HINT)
    raise typer.Exit(1)

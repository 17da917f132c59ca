"""`hotstar-sync`: a thin Typer app. Each command parses, calls one library function, and
maps our errors to an exit code and a one-line message (see `_app.handle_errors`)."""

from hotstar_sync.cli import db, ingest, ops, simulate, sync, token  # noqa: F401 (registers)
from hotstar_sync.cli._app import app, db_app, main, summarise_commands

summarise_commands(app, db_app)

__all__ = ["app", "main"]

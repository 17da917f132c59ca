"""`hotstar-sync token`: print a fresh EdgeAuth token, as the seed's generate-token did."""

from __future__ import annotations

import typer

from hotstar_sync.api.token import make_token
from hotstar_sync.cli._app import app, handle_errors, settings


@app.command()
@handle_errors
def token() -> None:
    """Print a fresh EdgeAuth token for the `hdnea` header (valid HOTSTAR_TOKEN_WINDOW_SECONDS)."""
    cfg = settings()
    typer.echo(make_token(cfg.resolved_secret(), cfg.token_window_seconds).value)

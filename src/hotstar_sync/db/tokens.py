"""`hotstar_api_tokens`: when each token was made and expires, and its fingerprint.

The seed stored the token itself; here only its times and a hash prefix are kept (design,
"Runs and safety"), and the table's CHECK refuses a token value outright.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from hotstar_sync.api.token import Token
from hotstar_sync.db.schema import UPGRADE_HINT
from hotstar_sync.errors import DatabaseError

_INSERT = """
INSERT INTO hotstar_api_tokens (generated_at, expires_at, is_active, fingerprint)
VALUES (%s, %s, true, %s)
RETURNING id
"""
_DEACTIVATE_OTHERS = "UPDATE hotstar_api_tokens SET is_active = false WHERE is_active AND id <> %s"


def record_token(conn: psycopg.Connection[Any], token: Token) -> None:
    """Record `token` as the active one and mark every earlier token inactive.

    Meant as a `TokenProvider` `on_new_token` callback. Inside a transaction the caller has
    open, this is a savepoint that commits (or rolls back) with it; otherwise it commits at
    once.
    """
    generated = datetime.fromtimestamp(token.made, tz=UTC)
    expires = datetime.fromtimestamp(token.expires, tz=UTC)
    try:
        with conn.transaction():
            row = conn.execute(_INSERT, (generated, expires, token.fingerprint)).fetchone()
            assert row is not None, "INSERT ... RETURNING gives one row"
            conn.execute(_DEACTIVATE_OTHERS, (row[0],))
    except psycopg.Error as exc:
        # Only the fingerprint is named: the token value never reaches a message.
        reason = exc.diag.message_primary or type(exc).__name__
        raise DatabaseError(
            f"cannot record token {token.fingerprint} in hotstar_api_tokens: {reason}",
            hint=UPGRADE_HINT if isinstance(exc, psycopg.errors.UndefinedTable) else None,
        ) from exc

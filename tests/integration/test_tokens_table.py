"""`record_token`: a token's times and fingerprint in hotstar_api_tokens, never its value."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from hotstar_sync.api.token import make_token
from hotstar_sync.db.tokens import record_token
from hotstar_sync.errors import DatabaseError

KEY = bytes.fromhex("0123456789abcdef")


def test_record_token_stores_times_and_fingerprint_never_the_value(db_url: str) -> None:
    token = make_token(KEY, 2000, now=1_700_000_000)

    with psycopg.connect(db_url, autocommit=True) as conn:
        record_token(conn, token)
        row = conn.execute(
            "SELECT token, generated_at, expires_at, is_active, fingerprint FROM hotstar_api_tokens"
        ).fetchone()
        whole_table = conn.execute("SELECT t::text FROM hotstar_api_tokens t").fetchall()

    assert row == (
        None,
        datetime.fromtimestamp(1_700_000_000, tz=UTC),
        datetime.fromtimestamp(1_700_002_000, tz=UTC),
        True,
        token.fingerprint,
    )
    assert not any(token.value in text or "hmac" in text for (text,) in whole_table)


def test_a_new_token_deactivates_the_older_ones(db_url: str) -> None:
    tokens = [make_token(KEY, 2000, now=1_700_000_000 + 1800 * n) for n in range(3)]

    with psycopg.connect(db_url, autocommit=True) as conn:
        for token in tokens:
            record_token(conn, token)
        rows = conn.execute(
            "SELECT fingerprint, is_active FROM hotstar_api_tokens ORDER BY id"
        ).fetchall()

    assert rows == [
        (tokens[0].fingerprint, False),
        (tokens[1].fingerprint, False),
        (tokens[2].fingerprint, True),
    ]


def test_inside_an_open_transaction_it_commits_with_the_caller(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT 1")  # the caller's transaction, e.g. a page being written
        record_token(conn, make_token(KEY, 2000))
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM hotstar_api_tokens").fetchone() == (0,)
        conn.rollback()

        record_token(conn, make_token(KEY, 2000))  # no transaction open: commits at once
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM hotstar_api_tokens").fetchone() == (1,)


def test_the_table_refuses_a_token_value_as_the_seed_wrote_it(db_url: str) -> None:
    token = make_token(KEY, 2000)
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO hotstar_api_tokens (token, expires_at, is_active, fingerprint)"
            " VALUES (%s, now(), true, %s)",
            (token.value, token.fingerprint),
        )


def test_a_database_without_the_schema_is_a_database_error_naming_the_fingerprint(
    empty_db_url: str,
) -> None:
    token = make_token(KEY, 2000)
    with (
        psycopg.connect(empty_db_url, autocommit=True) as conn,
        pytest.raises(DatabaseError) as caught,
    ):
        record_token(conn, token)

    assert caught.value.message == (
        f"cannot record token {token.fingerprint} in hotstar_api_tokens:"
        ' relation "hotstar_api_tokens" does not exist'
    )
    assert caught.value.hint == "run `hotstar-sync db upgrade`"
    assert token.value not in str(caught.value)

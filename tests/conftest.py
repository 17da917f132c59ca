"""Shared fixtures: a real PostgreSQL, one database per test.

`HOTSTAR_TEST_DATABASE_URL` names a server to use (CI: postgres@127.0.0.1:5432); without it
the session starts an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from hotstar_sync.db.connect import embedded_database_url


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a maintenance database on the test server."""
    url = os.environ.get("HOTSTAR_TEST_DATABASE_URL")
    if url:
        return url
    return embedded_database_url(Path(tmp_path_factory.mktemp("embedded-pg")))


def _create_database(server_url: str, template: str | None = None) -> str:
    name = "hs_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database of its own for one test."""
    name = _create_database(pg_server_url)
    yield _with_dbname(pg_server_url, name)
    _drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def _migrated_template(pg_server_url: str) -> Iterator[str]:
    from hotstar_sync.db.migrate import upgrade

    name = _create_database(pg_server_url)
    upgrade(_with_dbname(pg_server_url, name))
    yield name
    _drop_database(pg_server_url, name)


@pytest.fixture
def db_url(pg_server_url: str, _migrated_template: str) -> Iterator[str]:
    """A fresh database with the whole schema, for one test."""
    name = _create_database(pg_server_url, template=_migrated_template)
    yield _with_dbname(pg_server_url, name)
    _drop_database(pg_server_url, name)

"""Helpers for the ops tests: crafted sync-log rows, the CLI, and a real ingest."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import structlog
import uvicorn
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from starlette.types import ASGIApp
from typer.testing import CliRunner, Result

import hotstar_sync.cli.ops  # noqa: F401  (registers the ops commands on the app)
from hotstar_sync.cli import app
from hotstar_sync.config import load_settings
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.conftest import _create_database, _drop_database, _with_dbname

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # The app's callback points structlog at the runner's stderr, closed once the command
    # returns; later tests that log would then write to a closed file.
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="module")
def _module_db(pg_server_url: str, _migrated_template: str) -> Iterator[str]:
    name = _create_database(pg_server_url, template=_migrated_template)
    yield _with_dbname(pg_server_url, name)
    _drop_database(pg_server_url, name)


@pytest.fixture
def log_db(_module_db: str) -> str:
    """A migrated database shared by a module's tests, its sync log emptied for each one.

    For tests that write only the sync log: a database of their own each costs about a
    second (create and drop), most of these tests' time.
    """
    with psycopg.connect(_module_db, autocommit=True) as conn:
        conn.execute("TRUNCATE hotstar_sync_log RESTART IDENTITY CASCADE")
    return _module_db


def cli(db_url: str, *args: str, **env: str) -> Result:
    return runner.invoke(app, list(args), env={"DATABASE_URL": db_url, **env})


@dataclass(frozen=True)
class Row:
    id: int
    started_at: datetime
    completed_at: datetime | None


def add_run(
    db_url: str,
    sync_type: str,
    status: str,
    *,
    ago: timedelta,
    seconds: int = 60,
    errors: list[str] | None = None,
    incomplete_windows: list[str] | None = None,
    details: dict[str, Any] | None = None,
    **counts: int,
) -> Row:
    """A sync-log row that started `ago` before the database's now(), as a job writes it."""
    ended = status != "running"
    columns = {
        "sync_type": sync_type,
        "status": status,
        "errors": Jsonb(errors) if errors else None,
        "error_count": len(errors or []),
        "incomplete_windows": Jsonb(incomplete_windows) if incomplete_windows else None,
        "duration_seconds": seconds if ended else None,
        "details": Jsonb(details) if details else None,
        **counts,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"INSERT INTO hotstar_sync_log (started_at, completed_at, {names})"
            f" VALUES (now() - %s, CASE WHEN %s THEN now() - %s + %s END, {marks})"
            " RETURNING id, started_at, completed_at",
            (ago, ended, ago, timedelta(seconds=seconds), *columns.values()),
        ).fetchone()
    assert row is not None
    return Row(**row)


def utc(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ingest_small(db_url: str, movies: int = 1500) -> Any:
    """A real ingest of a small simulated catalogue into `db_url`; returns its report."""
    config = SimulatorConfig(movies=movies, seed=3, rate_limit=0, cluster_size=200, malformed=2)
    with serve_in_thread(config) as sim:
        settings = load_settings(api_base_url=sim.base_url, database_url=db_url, rate_limit_rps=0)
        return ingest(settings)


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()

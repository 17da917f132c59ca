"""`hotstar-sync status` and the help of every ops command."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from hotstar_sync.cli import app
from hotstar_sync.ops import metrics
from hotstar_sync.ops.web import create_app
from tests.ops.conftest import add_run, cli, runner


def test_status_json_has_the_runs_the_daily_statistics_and_the_mirror(log_db: str) -> None:
    first = add_run(log_db, "initial", "completed", ago=timedelta(days=2), items_added=40)
    # Minutes apart, so that both fall on one day whenever the test runs (hours apart, it
    # failed between 00:00 and 02:00 UTC).
    add_run(log_db, "daily", "completed", ago=timedelta(minutes=1), items_added=2, seconds=30)
    add_run(log_db, "daily", "completed", ago=timedelta(minutes=2), items_updated=5, seconds=10)

    result = cli(log_db, "status", "--json", "--limit", "2")

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["sync_type"] for r in data["runs"]] == ["daily", "daily"]
    assert data["runs"][0]["items_added"] == 2
    assert data["mirror"] == {"live": 0, "deleted": 0}
    (day,) = data["daily"]
    assert (day["syncs"], day["total_added"], day["total_updated"], day["avg_duration"]) == (
        2,
        2,
        5,
        20.0,
    )
    everything = json.loads(cli(log_db, "status", "--json").stdout)
    assert everything["runs"][-1]["id"] == first.id


def test_status_prints_tables(log_db: str) -> None:
    run = add_run(
        log_db,
        "daily",
        "failed",
        ago=timedelta(hours=1),
        items_updated=1234,
        errors=["/movie/search: HTTP 503", "retries exhausted: HTTP 503"],
    )
    result = cli(log_db, "status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "mirror: 0 live rows, 0 soft-deleted"
    assert lines[1].rstrip() == "Recent runs"
    header = next(line for line in lines if "started UTC" in line).split()
    assert header[:4] == ["id", "type", "sync", "status"] and header[-1] == "live"
    row = next(line for line in lines if f" {run.id} " in line)
    assert row.split()[1:4] == ["movie", "daily", "failed"] and "1,234" in row
    # Why it failed: the last of its errors, under the table.
    assert f"run {run.id} failed: retries exhausted: HTTP 503" in lines


def test_status_keeps_large_counts_whole_at_80_columns(log_db: str) -> None:
    counts = {
        "items_added": 1_234_567,
        "items_updated": 2_345_678,
        "items_deleted": 34_567,
        "items_restored": 4_567,
        "api_requests_made": 123_456,
    }
    run = add_run(log_db, "reconcile", "incomplete", ago=timedelta(hours=1), seconds=7654, **counts)
    result = cli(log_db, "status", COLUMNS="80")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if f"{run.id} " in line)
    assert "…" not in result.stdout
    for value in ("reconcile", "incomplete", "7,654", *(f"{n:,}" for n in counts.values())):
        assert f" {value}" in row, value


def test_status_of_an_empty_log_says_so(log_db: str) -> None:
    result = cli(log_db, "status")
    assert result.stdout == "mirror: 0 live rows, 0 soft-deleted\nno runs yet\n"


def test_status_without_the_schema_names_the_command_to_run(empty_db_url: str) -> None:
    result = cli(empty_db_url, "status")
    assert result.exit_code == 1
    assert result.stderr == (
        'error: cannot read the source database: relation "hotstar_movies" does not exist\n'
        "hint: run `hotstar-sync db upgrade` if the schema is missing\n"
    )


@pytest.mark.parametrize("command", ["schedule", "status", "health", "serve"])
def test_every_ops_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) > 3


def test_the_operations_doc_names_every_command_endpoint_and_metric() -> None:
    text = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    for command in ("schedule", "status", "health", "serve"):
        assert f"`hotstar-sync {command}" in text, command
    routes = [r.path for r in create_app("postgresql://x@127.0.0.1:1/x").routes]
    for path in routes:
        if path != "/static":
            assert f"`{path}" in text, path
    names = re.findall(r"^\s+(hotstar_sync_\w+)", metrics.__doc__ or "", re.MULTILINE)
    assert len(names) == 8
    for name in names:
        assert f"`{name}`" in text, name


def test_serve_listens_and_answers(log_db: str) -> None:
    env = os.environ | {"DATABASE_URL": log_db}
    command = [sys.executable, "-m", "hotstar_sync", "serve", "--port", "0"]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stderr is not None
            line = server.stderr.readline()
            url = re.fullmatch(r"Serving the status page at (http://127\.0\.0\.1:\d+/)\n", line)
            assert url, line
            answer = httpx.get(url[1] + "healthz", timeout=10)
            assert answer.status_code == 503
            assert answer.text == "CRITICAL: no sync has run: start with `hotstar-sync ingest`\n"
        finally:
            server.terminate()
        # A service manager's stop: uvicorn's graceful shutdown, then the end by the signal
        # itself (a clean stop to systemd), not an error line and exit 143.
        _, rest = server.communicate(timeout=30)
        assert server.returncode == -signal.SIGTERM
        assert "terminated" not in rest and "error" not in rest


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(log_db: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(log_db, "serve", "--port", str(port))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --host 127.0.0.1 --port {port}: cannot listen there (Address already in use)\n"
    )
    assert cli(log_db, "serve", "--port", "99999").exit_code == 2


def test_status_counts_each_type_s_table(log_db: str) -> None:
    try:
        _status_of_two_types(log_db)
    finally:  # the module's tests share this database's (otherwise empty) mirror
        with psycopg.connect(log_db) as conn:
            conn.execute("TRUNCATE hotstar_movies, hotstar_channels")


def _status_of_two_types(log_db: str) -> None:
    with psycopg.connect(log_db) as conn:
        conn.execute(
            "INSERT INTO hotstar_channels (hotstar_id, content_id, name, content_hash, is_deleted)"
            " SELECT n, n::text, 'Channel', 'h', n > 3 FROM generate_series(1, 5) n"
        )
        conn.execute(
            "INSERT INTO hotstar_movies (hotstar_id, content_id, title, content_hash)"
            " SELECT n, n::text, 'Movie', 'h' FROM generate_series(1, 2) n"
        )
    ingest = add_run(
        log_db, "initial", "completed", ago=timedelta(days=2), items_added=5, content_type="channel"
    )
    add_run(log_db, "initial", "completed", ago=timedelta(days=1), items_added=2)
    data = json.loads(cli(log_db, "status", "--json").stdout)
    assert data["mirror"] == {"live": 5, "deleted": 2}
    channel = next(r for r in data["runs"] if r["id"] == ingest.id)
    # Later runs of other types do not count against the channels' table.
    assert (channel["content_type"], channel["mirror_rows"], channel["mirror_live"]) == (
        "channel",
        5,
        3,
    )
    assert "channel" in cli(log_db, "status").stdout

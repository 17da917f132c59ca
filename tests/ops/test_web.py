"""The status server over real HTTP: /healthz, /metrics after a real ingest, the JSON API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import psycopg
import pytest
from prometheus_client.utils import floatToGoString

from hotstar_sync.model.content import CONTENT_TYPES
from hotstar_sync.ops.health import Limits
from hotstar_sync.ops.web import create_app
from tests.ops.conftest import add_run, ingest_small, serving

UNREACHABLE = "postgresql://nobody:pw-never-shown@127.0.0.1:1/x"


@pytest.fixture(scope="module")
def offline() -> Iterator[httpx.Client]:
    """A server whose database is unreachable: enough wherever the database is not read."""
    with serving(create_app(UNREACHABLE)) as base, httpx.Client(base_url=base) as client:
        yield client


def _client(url: str) -> Iterator[httpx.Client]:
    with (
        serving(create_app(url, Limits.for_reconcile_every(7))) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        yield client


@pytest.fixture
def http(log_db: str) -> Iterator[httpx.Client]:
    """The server over a database whose tests write only the sync log."""
    yield from _client(log_db)


@pytest.fixture
def mirror_http(db_url: str) -> Iterator[httpx.Client]:
    """The server over a database of the test's own, for a real ingest."""
    yield from _client(db_url)


def test_metrics_after_a_real_ingest(db_url: str, mirror_http: httpx.Client) -> None:
    report = ingest_small(db_url)
    with psycopg.connect(db_url) as conn:
        ended, duration, live, deleted = conn.execute(
            "SELECT extract(epoch FROM completed_at)::float8, duration_seconds,"
            " (SELECT count(*) FROM hotstar_movies WHERE NOT is_deleted),"
            " (SELECT count(*) FROM hotstar_movies WHERE is_deleted)"
            " FROM hotstar_sync_log"
        ).fetchone()

    response = mirror_http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = dict(
        line.rsplit(" ", 1) for line in response.text.splitlines() if not line.startswith("#")
    )
    run = 'content_type="movie",sync_type="initial"'
    others = {  # the other types' tables are empty
        f'hotstar_sync_mirror_rows{{content_type="{kind}",state="{state}"}}': "0.0"
        for kind in CONTENT_TYPES
        if kind != "movie"
        for state in ("live", "deleted")
    }
    assert samples == {
        "hotstar_sync_up": "1.0",
        'hotstar_sync_runs{content_type="movie",status="completed",sync_type="initial"}': "1.0",
        f'hotstar_sync_items_total{{change="added",{run}}}': f"{report.counts.added}.0",
        f'hotstar_sync_items_total{{change="updated",{run}}}': "0.0",
        f'hotstar_sync_items_total{{change="deleted",{run}}}': "0.0",
        f'hotstar_sync_items_total{{change="restored",{run}}}': "0.0",
        f"hotstar_sync_api_requests_total{{{run}}}": f"{report.requests}.0",
        f"hotstar_sync_last_success_timestamp_seconds{{{run}}}": floatToGoString(ended),
        f"hotstar_sync_last_duration_seconds{{{run}}}": f"{duration}.0",
        'hotstar_sync_mirror_rows{content_type="movie",state="live"}': f"{live}.0",
        'hotstar_sync_mirror_rows{content_type="movie",state="deleted"}': f"{deleted}.0",
        **others,
        "hotstar_sync_health": "0.0",
    }
    assert live + deleted == report.counts.added


def test_metrics_count_runs_by_type_and_status(log_db: str, http: httpx.Client) -> None:
    add_run(log_db, "initial", "completed", ago=timedelta(days=3), items_added=100)
    add_run(log_db, "daily", "completed", ago=timedelta(days=2), items_added=5, items_updated=7)
    add_run(log_db, "daily", "failed", ago=timedelta(hours=30), items_updated=2, seconds=9)
    # A channel whose daily syncs keep failing, beside movies doing fine.
    add_run(log_db, "daily", "failed", ago=timedelta(hours=1), content_type="channel")
    text = http.get("/metrics").text
    daily = 'content_type="movie",sync_type="daily"'
    runs = 'hotstar_sync_runs{content_type="movie",status="%s",sync_type="daily"} 1.0'
    assert runs % "completed" in text and runs % "failed" in text
    assert f'hotstar_sync_items_total{{change="updated",{daily}}} 9.0' in text
    assert f"hotstar_sync_last_duration_seconds{{{daily}}} 9.0" in text
    assert f"hotstar_sync_last_success_timestamp_seconds{{{daily}}}" in text
    # Its freshness is the channel's own: no success series at all, for a rule to miss.
    assert 'hotstar_sync_runs{content_type="channel",status="failed",sync_type="daily"} 1.0' in (
        text
    )
    assert 'success_timestamp_seconds{content_type="channel"' not in text
    assert "hotstar_sync_health 2.0" in text


def test_metrics_say_down_and_unknown_when_the_database_cannot_be_read(
    offline: httpx.Client,
) -> None:
    text = offline.get("/metrics").text
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["hotstar_sync_up 0.0", "hotstar_sync_health 3.0"]


@pytest.mark.parametrize(
    ("daily_status", "code", "level", "first"),
    [
        ("completed", 200, "OK", "OK: last daily sync completed 1.0 h ago"),
        ("incomplete", 200, "WARNING", "WARNING: last daily sync (daily sync run 2"),
        ("failed", 503, "CRITICAL", "CRITICAL: last daily sync failed at "),
    ],
)
def test_healthz_is_200_when_ok_or_warning_and_503_otherwise(
    log_db: str, http: httpx.Client, daily_status: str, code: int, level: str, first: str
) -> None:
    add_run(log_db, "initial", "completed", ago=timedelta(days=1))
    add_run(log_db, "daily", daily_status, ago=timedelta(hours=1))
    response = http.get("/healthz")
    assert response.status_code == code
    assert response.text.startswith(first) and response.text.count("\n") == 1
    as_json = http.get("/api/health").json()
    assert as_json["level"] == level
    assert as_json["findings"][0]["message"] == response.text.strip().split(": ", 1)[1]


def test_healthz_is_503_when_the_database_cannot_be_read(offline: httpx.Client) -> None:
    response = offline.get("/healthz")
    assert response.status_code == 503
    assert response.text.startswith("UNKNOWN: cannot connect to the source database: ")
    assert "pw-never-shown" not in response.text


def test_api_runs_newest_first_with_the_mirror_size(db_url: str, mirror_http: httpx.Client) -> None:
    report = ingest_small(db_url)
    daily = add_run(
        db_url, "daily", "completed", ago=timedelta(0), items_updated=4, api_requests_made=3
    )
    body = mirror_http.get("/api/runs", params={"limit": 5}).json()
    newest, first = body["runs"]
    assert (newest["id"], newest["sync_type"], newest["items_updated"]) == (daily.id, "daily", 4)
    assert (first["id"], first["status"], first["items_added"]) == (
        report.run_id,
        "completed",
        report.counts.added,
    )
    assert newest["started_at"] == daily.started_at.isoformat()
    assert body["mirror"]["live"] + body["mirror"]["deleted"] == report.counts.added
    # The newest point is the mirror's exact size now.
    assert newest["mirror_rows"] == report.counts.added
    assert newest["mirror_live"] == body["mirror"]["live"]
    assert mirror_http.get("/api/runs", params={"limit": 1}).json()["runs"] == [newest]


def test_api_changes_pages_through_the_change_log(db_url: str, mirror_http: httpx.Client) -> None:
    report = ingest_small(db_url, movies=300)
    first = mirror_http.get("/api/changes", params={"limit": 200}).json()
    assert len(first["changes"]) == 200
    assert first["changes"][0]["change"] == "insert"
    assert first["changes"][0]["run_id"] == report.run_id
    rest = mirror_http.get(
        "/api/changes", params={"limit": 200, "after_id": first["next_after_id"]}
    ).json()
    assert rest["next_after_id"] is None
    ids = [c["id"] for c in first["changes"] + rest["changes"]]
    with psycopg.connect(db_url) as conn:
        every = [r[0] for r in conn.execute("SELECT id FROM hotstar_change_log ORDER BY id")]
    assert ids == every and len(every) > 200
    future = mirror_http.get("/api/changes", params={"since": "2999-01-01T00:00:00"}).json()
    assert future == {"since": "2999-01-01T00:00:00+00:00", "changes": [], "next_after_id": None}


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        ("/api/changes", {"since": "yesterday"}, "since: 'yesterday' is not an ISO 8601 time"),
        ("/api/changes", {"limit": "0"}, "limit: must be an integer from 1 to 10000"),
        ("/api/runs", {"limit": "many"}, "limit: must be an integer from 1 to 1000"),
        ("/api/daily", {"days": "400"}, "days: must be an integer from 1 to 366"),
    ],
)
def test_bad_parameters_answer_400(
    offline: httpx.Client, path: str, params: dict[str, str], error: str
) -> None:
    # Parameters are checked before the database is read.
    response = offline.get(path, params=params)
    assert (response.status_code, response.json()) == (400, {"error": error})


def test_api_daily_is_the_seeds_daily_statistics(log_db: str, http: httpx.Client) -> None:
    add_run(log_db, "daily", "completed", ago=timedelta(0), items_added=2, seconds=10)
    add_run(log_db, "daily", "completed", ago=timedelta(0), items_added=3, seconds=20)
    add_run(log_db, "daily", "failed", ago=timedelta(0), items_added=50)
    (day,) = http.get("/api/daily").json()["days"]
    assert {k: day[k] for k in ("syncs", "total_added", "avg_duration")} == {
        "syncs": 2,
        "total_added": 5,
        "avg_duration": 15.0,
    }


def test_the_api_answers_503_with_the_reason_when_the_database_is_down(
    offline: httpx.Client,
) -> None:
    response = offline.get("/api/runs")
    assert response.status_code == 503
    assert response.json()["error"].startswith("cannot connect to the source database: ")


@pytest.mark.parametrize("path", ["/", "/api/runs", "/healthz", "/static/app.js"])
def test_the_server_is_read_only(offline: httpx.Client, path: str) -> None:
    assert offline.post(path).status_code == 405
    assert offline.delete(path).status_code == 405


def test_the_page_and_its_chart_library_are_served_from_the_package(
    offline: httpx.Client,
) -> None:
    page = offline.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert '<script src="/static/vendor/uplot/uPlot.iife.min.js">' in page.text
    library = offline.get("/static/vendor/uplot/uPlot.iife.min.js")
    assert library.status_code == 200
    assert library.text.startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert "http" not in page.text.replace('href="/', "").split("<body>")[0]


def _backends(db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'hotstar-sync' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def test_concurrent_requests_open_no_more_backends_than_the_pool(log_db: str) -> None:
    add_run(log_db, "initial", "completed", ago=timedelta(days=1))
    seen: list[int] = []
    with (
        serving(create_app(log_db, Limits(), pool_size=3, cache_seconds=0)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
        ThreadPoolExecutor(32) as threads,
    ):
        paths = ["/api/runs", "/api/health", "/healthz", "/metrics", "/api/daily"] * 40
        answers = threads.map(lambda path: client.get(path).status_code, paths)
        for _ in range(20):
            seen.append(_backends(log_db))
            time.sleep(0.02)
        codes = list(answers)
    assert set(codes) == {200}
    assert 0 < max(seen) <= 3


def test_an_answer_is_served_from_the_cache_for_its_seconds(log_db: str) -> None:
    first = add_run(log_db, "initial", "completed", ago=timedelta(days=1))
    with (
        serving(create_app(log_db, Limits(), cache_seconds=60)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        before = client.get("/api/runs").json()["runs"]
        add_run(log_db, "daily", "completed", ago=timedelta(0))
        assert client.get("/api/runs").json()["runs"] == before  # the cached answer
        assert [r["id"] for r in before] == [first.id]
        # Another question is read anew.
        assert len(client.get("/api/runs", params={"limit": 5}).json()["runs"]) == 2

"""The source schema on a real PostgreSQL: revision 0001 from empty, idempotent, and its rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command

from hotstar_sync.db import migrate, schema
from hotstar_sync.errors import DatabaseError

# Every column of the seed's three tables (seed/000_0222dc43a91fcf27.txt, "Database Schema"),
# as words in the seed's order: easier to hold against the seed than a list of 60 literals.
SEED_COLUMNS = {
    "hotstar_movies": """id hotstar_id content_id title description content_type year duration
        genre lang lang_objs premium vip paid asset_status start_date end_date broadcast_date
        thumbnail portrait_thumbnail images source_images deep_link_url
        deep_link_url_living_room play_uri locators actors directors producers anchors
        search_keywords trailers trailer_deep_links parental_rating parental_rating_name
        channel_object api_update_date created_at updated_at last_synced_at is_deleted
        deleted_at raw_response""".split(),  # noqa: SIM905
    "hotstar_sync_log": """id sync_type started_at completed_at status total_items_fetched
        items_added items_updated items_deleted api_requests_made from_update_date
        to_update_date errors duration_seconds""".split(),  # noqa: SIM905
    "hotstar_api_tokens": ["id", "token", "generated_at", "expires_at", "is_active"],
}
ADDED_TABLES = {
    "hotstar_sync_windows",
    "hotstar_quarantine",
    "hotstar_change_log",
}

# The seed's two monitoring queries ("Monitoring & Alerts"), verbatim.
SEED_LATEST_SYNCS = """
SELECT
  sync_type,
  started_at,
  completed_at,
  status,
  items_added,
  items_updated,
  items_deleted,
  duration_seconds,
  api_requests_made
FROM hotstar_sync_log
ORDER BY started_at DESC
LIMIT 10;
"""
SEED_DAILY_STATISTICS = """
SELECT
  DATE(started_at) as date,
  COUNT(*) as syncs,
  SUM(items_added) as total_added,
  SUM(items_updated) as total_updated,
  SUM(items_deleted) as total_deleted,
  AVG(duration_seconds) as avg_duration
FROM hotstar_sync_log
WHERE sync_type = 'daily'
AND status = 'completed'
GROUP BY DATE(started_at)
ORDER BY date DESC
LIMIT 30;
"""
# The seed's health check (scripts/check-sync-health.py), verbatim.
SEED_HEALTH_CHECK = """
        SELECT started_at, status
        FROM hotstar_sync_log
        WHERE sync_type = 'daily'
        ORDER BY started_at DESC
        LIMIT 1
    """


def _columns(url: str) -> dict[str, dict[str, str]]:
    """{table: {column: data type}} of the public schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables


def _schema_objects(url: str) -> list[tuple[Any, ...]]:
    """Everything the schema holds (relations, functions, triggers), to compare two states."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            " UNION ALL SELECT proname, 'f' FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            " UNION ALL SELECT tgname, 't' FROM pg_trigger WHERE NOT tgisinternal"
            " ORDER BY 1, 2"
        ).fetchall()


def _insert_movie(conn: psycopg.Connection[Any], content_id: str, **columns: Any) -> None:
    values = {"hotstar_id": abs(hash(content_id)) % 10**12, "content_id": content_id}
    values |= {"title": "A title", "content_hash": "h0"} | columns
    names = ", ".join(values)
    placeholders = ", ".join(f"%({name})s" for name in values)
    conn.execute(f"INSERT INTO hotstar_movies ({names}) VALUES ({placeholders})", values)


def test_upgrade_from_empty_creates_every_table_and_seed_column(empty_db_url: str) -> None:
    assert migrate.current(empty_db_url) is None

    migrate.upgrade(empty_db_url)

    tables = _columns(empty_db_url)
    for table, columns in SEED_COLUMNS.items():
        assert set(columns) <= set(tables[table]), table
    assert set(tables) >= ADDED_TABLES
    timestamps = {
        (table, column): data_type
        for table, columns in tables.items()
        for column, data_type in columns.items()
        if data_type.startswith("timestamp")
    }
    assert timestamps
    assert set(timestamps.values()) == {"timestamp with time zone"}
    assert migrate.current(empty_db_url) == migrate.head()


def test_every_table_and_column_added_to_the_seeds_is_documented(db_url: str) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "schema.md").read_text(encoding="utf-8")
    # {table: the text of the doc's section whose heading names it}
    sections = {
        heading.split("`")[1]: body
        for heading, _, body in (part.partition("\n") for part in doc.split("\n## ")[1:])
        if "`" in heading
    }
    undocumented = [
        f"{table}.{column}"
        for table, columns in _columns(db_url).items()
        if table != "alembic_version"
        for column in columns
        if column not in SEED_COLUMNS.get(table, ())
        and f"`{column}`" not in sections.get(table, "")
    ]
    assert undocumented == []


def test_upgrade_twice_changes_nothing(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    before = _schema_objects(empty_db_url)

    migrate.upgrade(empty_db_url)

    assert _schema_objects(empty_db_url) == before
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (migrate.head(),)
        ]


def test_concurrent_upgrades_all_succeed(empty_db_url: str) -> None:
    # Separate processes, as separate `hotstar-sync db upgrade` commands would be: the
    # advisory lock in env.py serialises them, and the later ones find head and do nothing.
    code = "import sys; from hotstar_sync.db.migrate import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, empty_db_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    failures = [p.stderr.read() for p in processes if p.wait() != 0 and p.stderr]

    assert failures == []
    assert migrate.current(empty_db_url) == migrate.head()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(db_url: str) -> None:
    before = _schema_objects(db_url)

    migrate._run(db_url, "downgrade", _downgrade_to_base)

    assert migrate.current(db_url) is None
    assert {name for name, _ in _schema_objects(db_url)} == {
        "alembic_version",
        "alembic_version_pkc",
    }
    migrate.upgrade(db_url)
    assert _schema_objects(db_url) == before


def _downgrade_to_base(conn: Any) -> None:
    config = migrate._config()
    config.attributes["connection"] = conn
    command.downgrade(config, "base")


def test_seed_monitoring_queries_run_unchanged(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO hotstar_sync_log (sync_type, started_at, completed_at, status,"
            " items_added, items_updated, items_deleted, duration_seconds, api_requests_made)"
            " VALUES ('initial', now() - interval '2 days', now(), 'completed', 50, 0, 0, 60, 52),"
            " ('daily', now() - interval '1 hour', now(), 'completed', 3, 7, 1, 5, 2),"
            " ('daily', now() - interval '30 minutes', now(), 'completed', 1, 1, 0, 7, 1),"
            " ('daily', now(), NULL, 'running', 0, 0, 0, NULL, 0)"
        )
        latest = conn.execute(SEED_LATEST_SYNCS).fetchall()
        daily = conn.execute(SEED_DAILY_STATISTICS).fetchall()
        health = conn.execute(SEED_HEALTH_CHECK).fetchone()

    assert [row[3] for row in latest] == ["running", "completed", "completed", "completed"]
    assert len(daily) in (1, 2)  # the two daily runs may straddle midnight
    assert sum(row[1] for row in daily) == 2
    assert sum(row[2] for row in daily) == 4
    assert sum(row[3] for row in daily) == 8
    assert health is not None and health[1] == "running"


def test_updated_at_moves_when_the_row_changes_not_when_only_stamped(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        _insert_movie(
            conn,
            "1000001",
            updated_at="2020-01-01T00:00:00Z",
            last_synced_at="2020-01-01T00:00:00Z",
        )
        select = "SELECT updated_at::text FROM hotstar_movies WHERE content_id = '1000001'"

        conn.execute("UPDATE hotstar_movies SET last_synced_at = now()")
        assert conn.execute(select).fetchone() == ("2020-01-01 00:00:00+00",)

        conn.execute("UPDATE hotstar_movies SET title = 'A new title', content_hash = 'h1'")
        stamped = conn.execute(
            "SELECT updated_at > now() - interval '1 minute' FROM hotstar_movies"
        ).fetchone()
        assert stamped == (True,)


def test_genre_and_lang_have_gin_indexes_used_by_containment(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        methods: dict[str, str] = dict(
            conn.execute(
                "SELECT i.relname, am.amname FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam"
                " WHERE x.indrelid = 'hotstar_movies'::regclass"
            ).fetchall()
        )
        assert methods["idx_genre"] == methods["idx_lang"] == "gin"

        for n in range(200):
            genre = '["Drama", "Action"]' if n % 20 == 0 else '["Comedy"]'
            _insert_movie(conn, f"c{n}", genre=genre, lang='["Hindi"]')
        conn.execute("ANALYZE hotstar_movies")
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT content_id FROM hotstar_movies WHERE genre @> '[\"Drama\"]'"
        ).fetchall()
        count = conn.execute(
            "SELECT count(*) FROM hotstar_movies WHERE genre @> '[\"Drama\"]'"
        ).fetchone()

    assert "idx_genre" in "\n".join(row[0] for row in plan)
    assert count == (10,)


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE", "TRUNCATE"])
def test_change_log_is_append_only(db_url: str, statement: str) -> None:
    sql = {
        "UPDATE": "UPDATE hotstar_change_log SET reason = 'rewritten'",
        "DELETE": "DELETE FROM hotstar_change_log",
        "TRUNCATE": "TRUNCATE hotstar_change_log",
    }[statement]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO hotstar_change_log (run_id, content_type, content_id, change,"
            " changed_fields) VALUES (1, 'movie', '1000001', 'update', ARRAY['title'])"
        )
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            conn.execute(sql)
        assert conn.execute("SELECT count(*), max(reason) FROM hotstar_change_log").fetchone() == (
            1,
            None,
        )


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO hotstar_sync_log (sync_type, started_at, status)"
            " VALUES ('daily', now(), 'succeeded')",
            "hotstar_sync_log_status_check",
        ),
        (
            "INSERT INTO hotstar_change_log (content_type, content_id, change)"
            " VALUES ('movie', '1', 'upsert')",
            "hotstar_change_log_change_check",
        ),
        (
            "INSERT INTO hotstar_movies (hotstar_id, content_id, title, content_hash,"
            " deleted_reason) VALUES (1, '1', 't', 'h', 'gone')",
            "hotstar_movies_deleted_reason_check",
        ),
    ],
)
def test_checks_refuse_values_outside_their_list(db_url: str, sql: str, constraint: str) -> None:
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(sql)
    assert caught.value.diag.constraint_name == constraint


def test_every_status_of_the_design_is_accepted(db_url: str) -> None:
    statuses = ["running", "completed", "incomplete", "refused", "failed", "abandoned"]
    with psycopg.connect(db_url) as conn:
        for status in statuses:
            conn.execute(
                "INSERT INTO hotstar_sync_log (sync_type, status) VALUES ('reconcile', %s)",
                (status,),
            )
        assert conn.execute("SELECT count(*) FROM hotstar_sync_log").fetchone() == (6,)


def test_a_title_longer_than_500_characters_is_refused(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        _insert_movie(conn, "ok", title="x" * 500)
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            _insert_movie(conn, "too-long", title="x" * 501)


def test_deleting_a_run_deletes_its_window_checkpoints(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        run = conn.execute(
            "INSERT INTO hotstar_sync_log (sync_type) VALUES ('initial') RETURNING id"
        ).fetchone()
        assert run is not None
        window = (run[0], "movie", "startDate:..-0", '{"toStartDate": 0}', "done")
        insert = (
            "INSERT INTO hotstar_sync_windows (run_id, content_type, window_key, filters, status)"
            " VALUES (%s, %s, %s, %s, %s)"
        )
        conn.execute(insert, window)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, window)
        conn.rollback()
        run = conn.execute(
            "INSERT INTO hotstar_sync_log (sync_type) VALUES ('initial') RETURNING id"
        ).fetchone()
        assert run is not None
        conn.execute(insert, (run[0], *window[1:]))
        conn.execute("DELETE FROM hotstar_sync_log WHERE id = %s", (run[0],))
        assert conn.execute("SELECT count(*) FROM hotstar_sync_windows").fetchone() == (0,)


def test_require_head_names_the_command_to_run(empty_db_url: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        schema.require_head(empty_db_url)
    assert caught.value.message == "the source database has no schema yet"
    assert caught.value.hint == "run `hotstar-sync db upgrade`"

    migrate.upgrade(empty_db_url)
    schema.require_head(empty_db_url)


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql://nobody:s3cret-pw@127.0.0.1:1/x"
    for call in (migrate.upgrade, migrate.current):
        with pytest.raises(DatabaseError) as caught:
            call(url)
        message = caught.value.message
        assert message.startswith("cannot connect to the source database: ")
        assert "\n" not in message
        assert "s3cret-pw" not in message
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)


def test_a_revision_unknown_to_this_package_is_a_database_error(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(DatabaseError) as caught:
        migrate.upgrade(db_url)

    assert caught.value.message.startswith("cannot upgrade the source database: ")
    assert "9999" in caught.value.message
    assert caught.value.hint is not None and "newer hotstar-sync" in caught.value.hint

"""The page writer against a real PostgreSQL (a fresh migrated database per test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from structlog.testing import capture_logs

from hotstar_sync.db.writer import Checkpoint, PageCounts, PageWriter
from hotstar_sync.errors import DatabaseError
from hotstar_sync.model import MOVIE
from hotstar_sync.model.validate import prepare, row_columns

NOW = 1_700_000_000
NO_END = 4102424940


def movie(n: int, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 100_000 + n,
        "contentId": str(1_000_000_000 + n),
        "title": f"Movie {n}",
        "description": "A story.",
        "contentType": "MOVIE",
        "year": 2019,
        "duration": 7200,
        "genre": ["Drama"],
        "lang": ["Hindi"],
        "actors": ["Alia Bose"],
        "premium": False,
        "vip": False,
        "paid": False,
        "assetStatus": "PUBLISHED",
        "startDate": 1_560_000_000,
        "endDate": NO_END,
        "updateDate": 1_600_000_000,
    }
    item.update(fields)
    return item


def cid(n: int) -> str:
    return str(1_000_000_000 + n)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


def new_run(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("INSERT INTO hotstar_sync_log (sync_type) VALUES ('initial') RETURNING id")
    return int(row.fetchone()[0])  # type: ignore[index]


def write(
    conn: psycopg.Connection[Any],
    run: int,
    items: list[Any],
    now: float = NOW,
    **kwargs: Any,
) -> PageCounts:
    rows, rejects = prepare(MOVIE, items, now)
    return PageWriter(conn, MOVIE, run).write_page(rows, rejects, **kwargs)


def one(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def changes(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT content_id, change, changed_fields, reason, run_id FROM hotstar_change_log"
        " ORDER BY id"
    ).fetchall()


def test_a_new_page_is_inserted_with_every_column(conn: psycopg.Connection[Any]) -> None:
    run = new_run(conn)
    counts = write(conn, run, [movie(1), movie(2, channelObject={"id": 7}), movie(3)])
    assert counts == PageCounts(added=3)
    row = conn.execute(
        "SELECT hotstar_id, title, year, genre, actors, channel_object, producers, raw_response,"
        " first_seen_run_id, last_changed_run_id, is_deleted, content_type, api_update_date"
        " FROM hotstar_movies WHERE content_id = %s",
        (cid(2),),
    ).fetchone()
    assert row == (
        100_002,
        "Movie 2",
        2019,
        ["Drama"],
        ["Alia Bose"],
        {"id": 7},
        None,  # absent from the item
        movie(2, channelObject={"id": 7}),
        run,
        run,
        False,
        "MOVIE",
        1_600_000_000,
    )
    assert [c[:2] for c in changes(conn)] == [(cid(n), "insert") for n in (1, 2, 3)]


def test_a_rerun_of_the_same_page_rewrites_nothing(conn: psycopg.Connection[Any]) -> None:
    items = [movie(n) for n in range(5)]
    write(conn, new_run(conn), items)
    state = (
        "SELECT content_id, xmin::text, updated_at, last_synced_at FROM hotstar_movies ORDER BY 1"
    )
    before = conn.execute(state).fetchall()
    counts = write(conn, new_run(conn), items)
    assert counts == PageCounts(unchanged=5)
    assert conn.execute(state).fetchall() == before
    assert len(changes(conn)) == 5


def test_an_update_lists_exactly_the_changed_fields(conn: psycopg.Connection[Any]) -> None:
    first = new_run(conn)
    write(conn, first, [movie(1), movie(2)])
    changed = movie(1, title="New title", badges=["NEW"])
    del changed["actors"]
    second = new_run(conn)
    counts = write(conn, second, [changed, movie(2)])
    assert counts == PageCounts(updated=1, unchanged=1)
    assert changes(conn)[-1] == (cid(1), "update", ["actors", "badges", "title"], None, second)
    assert one(
        conn,
        "SELECT title, actors, raw_response, first_seen_run_id, last_changed_run_id,"
        " updated_at > created_at FROM hotstar_movies WHERE content_id = %s",
        cid(1),
    ) == ("New title", None, changed, first, second, True)


def test_unpublish_deletes_and_republish_restores(conn: psycopg.Connection[Any]) -> None:
    write(conn, new_run(conn), [movie(1)])
    run = new_run(conn)
    counts = write(conn, run, [movie(1, assetStatus="UNPUBLISHED")])
    assert counts == PageCounts(updated=1, deleted=1)
    assert changes(conn)[-2:] == [
        (cid(1), "update", ["assetStatus"], None, run),
        (cid(1), "delete", None, "unpublished", run),
    ]
    deleted = "SELECT is_deleted, deleted_reason, deleted_at IS NOT NULL FROM hotstar_movies"
    assert one(conn, deleted) == (True, "unpublished", True)

    run = new_run(conn)
    assert write(conn, run, [movie(1)]) == PageCounts(updated=1, restored=1)
    assert changes(conn)[-1] == (cid(1), "restore", None, "unpublished", run)
    assert one(conn, deleted) == (False, None, False)


def test_an_item_first_seen_unpublished_is_inserted_deleted(
    conn: psycopg.Connection[Any],
) -> None:
    assert write(conn, new_run(conn), [movie(1, assetStatus="UNPUBLISHED")]) == PageCounts(added=1)
    assert [c[1:4] for c in changes(conn)] == [
        ("insert", None, None),
        ("delete", None, "unpublished"),
    ]


def test_expiry_and_an_extended_end_date(conn: psycopg.Connection[Any]) -> None:
    item = movie(1, endDate=NOW + 100)
    write(conn, new_run(conn), [item], now=NOW)
    # The same item, once its endDate has passed: a deletion, not an update.
    run = new_run(conn)
    assert write(conn, run, [item], now=NOW + 101) == PageCounts(updated=1, deleted=1)
    assert changes(conn)[-1] == (cid(1), "delete", None, "expired", run)
    assert one(conn, "SELECT deleted_reason FROM hotstar_movies") == "expired"
    run = new_run(conn)
    counts = write(conn, run, [movie(1, endDate=NO_END)], now=NOW + 101)
    assert counts == PageCounts(updated=1, restored=1)
    assert [c[1:4] for c in changes(conn)[-2:]] == [
        ("update", ["endDate"], None),
        ("restore", None, "expired"),
    ]


def test_a_vanished_row_seen_again_is_restored(conn: psycopg.Connection[Any]) -> None:
    write(conn, new_run(conn), [movie(1)])
    conn.execute(
        "UPDATE hotstar_movies SET is_deleted = true, deleted_reason = 'vanished',"
        " deleted_at = now()"
    )
    run = new_run(conn)
    assert write(conn, run, [movie(1)]) == PageCounts(updated=1, restored=1)
    assert changes(conn)[-1] == (cid(1), "restore", None, "vanished", run)


def test_a_duplicate_id_is_quarantined_and_the_rest_commits(
    conn: psycopg.Connection[Any],
) -> None:
    clash = movie(2, id=100_001)  # another contentId with movie 1's id
    run = new_run(conn)
    counts = write(conn, run, [movie(1), clash, movie(3)])
    assert counts == PageCounts(added=2, quarantined=1)
    assert [r[0] for r in conn.execute("SELECT content_id FROM hotstar_movies ORDER BY 1")] == [
        cid(1),
        cid(3),
    ]
    quarantine = (
        "SELECT item_key, reason, raw_item, times_seen, last_run_id FROM hotstar_quarantine"
    )
    assert one(conn, quarantine) == (
        cid(2),
        f"id 100001 is claimed in the same page by contentId {cid(1)}",
        clash,
        1,
        run,
    )
    # Seen again on the next run, against the stored row this time: counted, not fatal.
    run = new_run(conn)
    assert write(conn, run, [clash]) == PageCounts(quarantined=1)
    assert one(conn, quarantine) == (
        cid(2),
        f"id 100001 already belongs to contentId {cid(1)}",
        clash,
        2,
        run,
    )


def test_the_row_that_holds_an_id_keeps_it_against_a_lower_content_id(
    conn: psycopg.Connection[Any],
) -> None:
    assert write(conn, new_run(conn), [movie(1), movie(5)]) == PageCounts(added=2)
    # Movie 1 (the lower contentId) now claims movie 5's id, in the page that brings movie
    # 5's new title and UNPUBLISHED state: the mirror knows movie 5 holds the id.
    owner = movie(5, title="Retitled", assetStatus="UNPUBLISHED", updateDate=1_600_000_100)
    thief = movie(1, id=100_005, updateDate=1_600_000_100)
    run = new_run(conn)
    assert write(conn, run, [thief, owner]) == PageCounts(updated=1, deleted=1, quarantined=1)
    stored = dict(conn.execute("SELECT content_id, raw_response FROM hotstar_movies").fetchall())
    assert stored == {cid(1): movie(1), cid(5): owner}  # movie 1 keeps its older version
    assert one(conn, "SELECT item_key, reason FROM hotstar_quarantine") == (
        cid(1),
        f"id 100005 already belongs to contentId {cid(5)}",
    )


def test_rejects_are_quarantined_counted_and_resolved(conn: psycopg.Connection[Any]) -> None:
    bad = movie(2, title=None)
    for times in (1, 2):
        run = new_run(conn)
        assert write(conn, run, [movie(1), bad]) == PageCounts(
            added=2 - times, unchanged=times - 1, quarantined=1
        )
        assert one(
            conn,
            "SELECT item_key, reason, times_seen, last_run_id, resolved_at FROM hotstar_quarantine",
        ) == (cid(2), "title: Input should be a valid string", times, run, None)
    write(conn, new_run(conn), [movie(2)])
    assert one(conn, "SELECT resolved_at IS NOT NULL FROM hotstar_quarantine") is True


def test_a_row_breaking_an_unforeseen_constraint_is_redone_row_by_row(
    conn: psycopg.Connection[Any],
) -> None:
    rows, _ = prepare(MOVIE, [movie(1), movie(2), movie(3)], NOW)
    # A value validation would have refused: VARCHAR(50) makes the whole upsert fail.
    key = row_columns(MOVIE).index("content_id")
    broken = tuple("9" * 60 if i == key else v for i, v in enumerate(rows[1]))
    counts = PageWriter(conn, MOVIE, new_run(conn)).write_page([rows[0], broken, rows[2]])
    assert counts == PageCounts(added=2, quarantined=1)
    assert one(conn, "SELECT count(*) FROM hotstar_movies") == 2
    item_key, reason = one(conn, "SELECT item_key, reason FROM hotstar_quarantine")
    assert item_key == "9" * 60
    assert "too long" in reason


def test_a_failing_page_commits_nothing(conn: psycopg.Connection[Any]) -> None:
    run = new_run(conn)
    bad_checkpoint = Checkpoint("w1", {"fromStartDate": 0}, status="bogus")  # type: ignore[arg-type]
    with pytest.raises(DatabaseError, match=f"run {run}") as info:
        write(conn, run, [movie(1), movie(2, title=None)], checkpoint=bad_checkpoint)
    assert isinstance(info.value.__cause__, psycopg.Error)
    for table in ("hotstar_movies", "hotstar_change_log", "hotstar_quarantine"):
        assert one(conn, f"SELECT count(*) FROM {table}") == 0
    assert one(conn, "SELECT total_items_fetched, items_added FROM hotstar_sync_log") == (0, 0)


def test_an_unknown_run_commits_nothing(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(DatabaseError, match="run 999 is not in hotstar_sync_log"):
        write(conn, 999, [movie(1)])
    assert one(conn, "SELECT count(*) FROM hotstar_movies") == 0


def test_the_connection_must_be_outside_a_transaction(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        run = new_run(conn)  # leaves the transaction open
        with pytest.raises(DatabaseError, match="outside any transaction"):
            write(conn, run, [movie(1)])


def test_the_sync_log_counters_add_up_over_pages(conn: psycopg.Connection[Any]) -> None:
    run = new_run(conn)
    write(conn, run, [movie(1), movie(2), movie(3, title=None)])
    write(conn, run, [movie(1, title="Changed"), movie(2, assetStatus="UNPUBLISHED"), movie(4)])
    write(conn, run, [movie(2)])
    assert one(
        conn,
        "SELECT total_items_fetched, items_added, items_updated, items_deleted, items_restored,"
        " items_quarantined FROM hotstar_sync_log WHERE id = %s",
        run,
    ) == (7, 3, 3, 1, 1, 1)


def test_the_checkpoint_commits_with_its_page(conn: psycopg.Connection[Any]) -> None:
    run = new_run(conn)
    stamp = datetime(2026, 1, 10, tzinfo=UTC)
    window = Checkpoint("s:0-99", {"fromStartDate": 0}, "unverified", 2, 2, 1)
    write(conn, run, [movie(1), movie(2)], checkpoint=window, now=NOW)
    done = Checkpoint("s:0-99", {"fromStartDate": 0, "toStartDate": 99}, "done", 3, 3, 2)
    write(conn, run, [movie(3)], checkpoint=done, now=NOW + 1)
    assert conn.execute(
        "SELECT run_id, content_type, window_key, filters, status, total_results, items_seen,"
        " requests FROM hotstar_sync_windows"
    ).fetchall() == [
        (run, "movie", "s:0-99", {"fromStartDate": 0, "toStartDate": 99}, "done", 3, 3, 2)
    ]
    PageWriter(conn, MOVIE, run).write_page([], [], now=stamp)
    assert one(conn, "SELECT count(*) FROM hotstar_sync_windows") == 1


def test_now_stamps_the_change_log_and_deletions(conn: psycopg.Connection[Any]) -> None:
    stamp = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
    rows, _ = prepare(MOVIE, [movie(1, assetStatus="UNPUBLISHED")], NOW)
    PageWriter(conn, MOVIE, new_run(conn)).write_page(rows, now=stamp)
    assert one(conn, "SELECT deleted_at, last_synced_at FROM hotstar_movies") == (stamp, stamp)
    assert one(conn, "SELECT array_agg(DISTINCT changed_at) FROM hotstar_change_log") == [stamp]


def test_a_content_id_twice_in_one_page_is_written_once(conn: psycopg.Connection[Any]) -> None:
    counts = write(conn, new_run(conn), [movie(1), movie(1, title="Later")])
    assert counts == PageCounts(added=1, unchanged=1)
    assert one(conn, "SELECT title FROM hotstar_movies") == "Later"


def test_raw_items_are_compressed_with_lz4_when_the_server_has_it(
    conn: psycopg.Connection[Any],
) -> None:
    has_lz4 = one(
        conn,
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
    )
    write(conn, new_run(conn), [movie(1, description="a long story " * 400)])
    expected = "lz4" if has_lz4 else "pglz"
    assert one(conn, "SELECT pg_column_compression(raw_response) FROM hotstar_movies") == expected


def test_settled_rows_are_counted_unchanged_and_not_written(
    conn: psycopg.Connection[Any],
) -> None:
    run = new_run(conn)
    # The page before holds movie 1 exactly as this one, and has not committed yet.
    counts = write(conn, run, [movie(1), movie(2)], settled={cid(1)})
    assert counts == PageCounts(added=1, unchanged=1)
    assert conn.execute("SELECT content_id FROM hotstar_movies").fetchall() == [(cid(2),)]
    assert one(conn, "SELECT total_items_fetched FROM hotstar_sync_log WHERE id = %s", run) == 2


def test_a_page_of_new_keys_is_inserted_as_the_merge_would_store_it(
    conn: psycopg.Connection[Any],
) -> None:
    run = new_run(conn)
    writer = PageWriter(conn, MOVIE, run)
    merged: list[Any] = []
    merge_some = writer._merge_some

    def spy(cur: Any, statement: Any, params: dict[str, Any]) -> Any:
        merged.append(statement)
        return merge_some(cur, statement, params)

    writer._merge_some = spy  # type: ignore[method-assign]

    def page(base: int) -> list[dict[str, Any]]:
        return [
            movie(base + 1, channelObject={"id": 7}),
            movie(base + 2, assetStatus="UNPUBLISHED"),
            movie(base + 3, endDate=NOW - 60),
        ]

    def write_page(items: list[dict[str, Any]]) -> PageCounts:
        rows, rejects = prepare(MOVIE, items, NOW)
        return writer.write_page(rows, rejects, now=datetime.fromtimestamp(NOW, UTC))

    assert write_page(page(0)) == PageCounts(added=3)
    assert merged == []  # every key new: inserted, not merged
    # Movie 1 is stored now, so this page is merged; its three new movies match the first.
    assert write_page([movie(1, channelObject={"id": 7}), *page(10)]) == PageCounts(
        added=3, unchanged=1
    )
    assert merged == [writer._sql.merge]
    columns = (
        "SELECT to_jsonb(m) - '{id, content_id, hotstar_id, title, raw_response, content_hash,"
        " created_at, updated_at}'::text[] FROM hotstar_movies m WHERE content_id = %s"
    )
    for n in (1, 2, 3):
        assert one(conn, columns, cid(n)) == one(conn, columns, cid(10 + n))
    # The change log in the order it was written: each key's 'insert', then its 'delete'.
    logged = [(key, change, reason) for key, change, _, reason, _ in changes(conn)]
    assert logged[:5] == [
        (cid(1), "insert", None),
        (cid(2), "insert", None),
        (cid(2), "delete", "unpublished"),
        (cid(3), "insert", None),
        (cid(3), "delete", "expired"),
    ]
    assert logged[5:] == [(cid(int(key) - 1_000_000_000 + 10), c, r) for key, c, r in logged[:5]]


def test_a_page_whose_id_is_taken_is_merged_without_trying_the_insert(
    conn: psycopg.Connection[Any],
) -> None:
    run = new_run(conn)
    write(conn, run, [movie(1)])
    taken = movie(2, id=100_001)  # movie 1's id
    twice = [movie(3, id=100_005), movie(4, id=100_005)]  # one id claimed twice in the page
    for page, quarantined in (([taken, movie(6)], cid(2)), (twice, cid(4))):
        with capture_logs() as logs:
            counts = write(conn, run, page)
        assert counts == PageCounts(added=1, quarantined=1)
        assert (
            one(conn, "SELECT count(*) FROM hotstar_quarantine WHERE item_key = %s", quarantined)
            == 1
        )
        # Known before writing, so no INSERT was tried (and rolled back) first.
        assert [e for e in logs if e["event"] == "new page merged instead"] == []


def _merge_racing_another_insert(
    conn: psycopg.Connection[Any], db_url: str, run: int, items: list[dict[str, Any]]
) -> tuple[PageCounts, list[tuple[bool, Any]]]:
    """Write `items` while another transaction inserts movie 2 and commits only once the
    page waits for it; returns the counts and the merge statements run (upsert?, only)."""
    writer = PageWriter(conn, MOVIE, run)
    statements: list[tuple[bool, Any]] = []
    merge_some = writer._merge_some

    def spy(cur: Any, statement: Any, params: dict[str, Any]) -> Any:
        statements.append((statement is writer._sql.upsert, params["only"]))
        return merge_some(cur, statement, params)

    writer._merge_some = spy  # type: ignore[method-assign]
    rows, _ = prepare(MOVIE, items, NOW)
    with psycopg.connect(db_url) as other:
        other.execute(
            "INSERT INTO hotstar_movies (hotstar_id, content_id, title, content_hash)"
            " VALUES (100002, %s, 'Elsewhere', 'another hash')",
            (cid(2),),
        )
        with ThreadPoolExecutor(1) as pool:
            page = pool.submit(writer.write_page, rows)
            deadline = time.monotonic() + 30
            while (
                not page.done()
                and one(
                    other,
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                    conn.info.backend_pid,
                )
                == 0
            ):
                assert time.monotonic() < deadline, "the page never waited for the other insert"
                time.sleep(0.05)
            other.commit()
            return page.result(timeout=30), statements


def test_a_key_another_transaction_inserts_meanwhile_is_merged_the_safe_way(
    conn: psycopg.Connection[Any], db_url: str
) -> None:
    run = new_run(conn)
    write(conn, run, [movie(4)])  # stored: the page below is merged, not inserted
    items = [movie(1), movie(2, title="From the page"), movie(3), movie(4)]
    counts, statements = _merge_racing_another_insert(conn, db_url, run, items)
    assert counts == PageCounts(added=2, updated=1, unchanged=1)
    # The fast way failed on movie 2's key; the safe way then merged the whole page at once.
    assert statements == [(False, None), (True, None)]
    assert one(
        conn, "SELECT title, raw_response FROM hotstar_movies WHERE content_id = %s", cid(2)
    ) == (
        "From the page",
        movie(2, title="From the page"),
    )
    assert sorted(c[:2] for c in changes(conn)) == [
        (cid(1), "insert"),
        (cid(2), "update"),
        (cid(3), "insert"),
        (cid(4), "insert"),
    ]


def test_a_new_key_another_transaction_inserts_meanwhile_makes_the_page_merge(
    conn: psycopg.Connection[Any], db_url: str
) -> None:
    run = new_run(conn)
    items = [movie(1), movie(2, title="From the page"), movie(3)]
    with capture_logs() as logs:
        counts, statements = _merge_racing_another_insert(conn, db_url, run, items)
    # The page's INSERT of new keys met movie 2's; the merge then found it stored.
    assert [e["event"] for e in logs] == ["new page merged instead"]
    assert counts == PageCounts(added=2, updated=1)
    assert statements == [(False, None)]
    assert one(conn, "SELECT title FROM hotstar_movies WHERE content_id = %s", cid(2)) == (
        "From the page"
    )
    assert sorted(c[:2] for c in changes(conn)) == [
        (cid(1), "insert"),
        (cid(2), "update"),
        (cid(3), "insert"),
    ]

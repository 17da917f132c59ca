"""Two page writers at once (jobs.pipeline): checkpoints wait for their pages, counts stay exact."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, cast

import psycopg
import pytest

from hotstar_sync.api.scan import ScanPage
from hotstar_sync.db.writer import PageCounts, PageWriter
from hotstar_sync.errors import DatabaseError
from hotstar_sync.jobs.pipeline import run_pass
from hotstar_sync.model import MOVIE
from hotstar_sync.model.validate import Reject, Row
from hotstar_sync.model.windows import Window, WindowResult

from .test_writer import cid, movie, new_run, one

A, B = Window(premium=True), Window(premium=False)


class Pages:
    """A scanner that hands out pages made in advance."""

    def __init__(self, pages: list[ScanPage]) -> None:
        self.pages = pages

    def scan(self, root: Window | None = None) -> Iterator[ScanPage]:
        return iter(self.pages)


def page(window: Window, numbers: Sequence[int], done: bool = False, **fields: Any) -> ScanPage:
    result = WindowResult(window, total=0, verified=True) if done else None
    return ScanPage(window, [movie(n, **fields) for n in numbers], result)


class SlowFailingWriter(PageWriter):
    """Fails, after a while, any page holding FAIL: the other connection meanwhile is free."""

    FAIL = cid(1)

    def write_page(
        self, rows: Sequence[Row], rejects: Sequence[Reject] = (), **kw: Any
    ) -> PageCounts:
        if any(row[1] == self.FAIL for row in rows):
            time.sleep(0.5)
            raise DatabaseError("this page fails", content_type="movie", run_id=self.run_id)
        return super().write_page(rows, rejects, **kw)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    # The writer's connection, as a session opens it: one transaction per page.
    with psycopg.connect(db_url) as connection:
        yield connection


def test_a_checkpoint_never_commits_before_a_page_of_its_window(
    conn: psycopg.Connection[Any],
) -> None:
    with psycopg.connect(conn.info.dsn, autocommit=True) as aux:
        run = new_run(aux)
        writer = SlowFailingWriter(conn, MOVIE, run)
        scanner = Pages([page(A, [1, 2, 3]), page(A, [4, 5, 6], done=True)])
        with pytest.raises(DatabaseError, match="this page fails"):
            run_pass(cast(Any, scanner), writer, MOVIE, writers=2)
        # The window's last page was free to run on the other connection, and did not:
        # neither its checkpoint nor its rows committed.
        assert one(aux, "SELECT count(*) FROM hotstar_sync_windows") == 0
        assert one(aux, "SELECT count(*) FROM hotstar_movies") == 0
        assert one(aux, "SELECT total_items_fetched FROM hotstar_sync_log WHERE id = %s", run) == 0


def test_counts_change_log_and_quarantine_stay_exact(conn: psycopg.Connection[Any]) -> None:
    with psycopg.connect(conn.info.dsn, autocommit=True) as aux:
        run = new_run(aux)
        pages = [
            page(A, range(0, 10)),
            page(A, range(8, 18)),  # shares 8, 9 with the page before, as the scanner does
            page(A, range(16, 26), done=True),
            page(B, range(25, 35)),  # 25: the window's boundary second, seen again
            page(B, range(33, 43), title="Renamed"),  # 33, 34 changed since last seen
            page(B, [50, 51], done=True),
        ]
        pages[3].items[1]["year"] = "not a number"  # 26: quarantined
        totals = run_pass(cast(Any, Pages(pages)), PageWriter(conn, MOVIE, run), MOVIE)
        assert totals.pages == 6 and totals.items == 52
        assert totals.counts == PageCounts(
            added=44, updated=2, unchanged=5, deleted=0, restored=0, quarantined=1
        )
        log = aux.execute(
            "SELECT total_items_fetched, items_added, items_updated, items_quarantined"
            " FROM hotstar_sync_log WHERE id = %s",
            (run,),
        ).fetchone()
        assert log == (52, 44, 2, 1)
        assert one(aux, "SELECT count(*) FROM hotstar_movies") == 44
        assert aux.execute(
            "SELECT change, count(*) FROM hotstar_change_log GROUP BY 1 ORDER BY 1"
        ).fetchall() == [("insert", 44), ("update", 2)]
        assert one(aux, "SELECT count(*) FROM hotstar_quarantine") == 1
        assert aux.execute(
            "SELECT window_key FROM hotstar_sync_windows ORDER BY id"
        ).fetchall() == [(A.key,), (B.key,)]


class SettledRecorder(PageWriter):
    """Records the keys each page is told an earlier page writes."""

    seen: ClassVar[list[set[int]]] = []

    def write_page(
        self, rows: Sequence[Row], rejects: Sequence[Reject] = (), **kw: Any
    ) -> PageCounts:
        self.seen.append({int(key) - 1_000_000_000 for key in kw.get("settled", ())})
        return super().write_page(rows, rejects, **kw)


def test_rows_equal_to_the_page_before_are_left_to_it(conn: psycopg.Connection[Any]) -> None:
    with psycopg.connect(conn.info.dsn, autocommit=True) as aux:
        run = new_run(aux)
        SettledRecorder.seen = []
        pages = [
            page(A, range(0, 10)),
            page(A, range(8, 18)),  # 8, 9: the scanner's overlap, equal
            page(A, range(16, 26), done=True),  # 16, 17 likewise
            page(B, [25, 26, 27], title="Renamed"),  # 25 changed since: written again
            page(B, [0, 1], done=True),  # two pages back: not the page before
        ]
        writer = SettledRecorder(conn, MOVIE, run)
        totals = run_pass(cast(Any, Pages(pages)), writer, MOVIE, writers=2)
        assert SettledRecorder.seen == [set(), {8, 9}, {16, 17}, set(), set()]
        assert totals.counts == PageCounts(added=28, updated=1, unchanged=6)
        assert one(aux, "SELECT count(*) FROM hotstar_movies") == 28
        assert aux.execute(
            "SELECT change, count(*) FROM hotstar_change_log GROUP BY 1 ORDER BY 1"
        ).fetchall() == [("insert", 28), ("update", 1)]


def test_a_writer_that_cannot_connect_leaves_the_garbage_collector_on(
    conn: psycopg.Connection[Any],
) -> None:
    # A role allowed one connection: the pass's second writer cannot connect ("too many
    # clients" on a busy server). The pass turns the collector off while it runs; it must
    # be on again after, or a long-lived `schedule` process would keep it off for good.
    role = f"hs_one_conn_{int(time.time() * 1000)}"
    with psycopg.connect(conn.info.dsn, autocommit=True) as aux:
        run = new_run(aux)
        # Not a superuser: the limit does not hold for those.
        aux.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
        aux.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        aux.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        try:
            info = conn.info
            dsn = f"host={info.host} port={info.port} dbname={info.dbname} user={role}"
            with psycopg.connect(dsn) as limited:
                writer = PageWriter(limited, MOVIE, run)
                assert gc.isenabled()
                with pytest.raises(DatabaseError):
                    run_pass(cast(Any, Pages([page(A, [1, 2])])), writer, MOVIE, writers=2)
                assert gc.isenabled()
        finally:
            aux.execute(f"DROP OWNED BY {role}")
            aux.execute(f"DROP ROLE {role}")

"""The count probe after a sync, and `verify`, against the simulator and PostgreSQL.

A vanish is made on the mirror's side where a test needs it at a precise startDate: a row
the API does not have (a copy of a real row under a new contentId) is exactly what a silent
removal leaves behind. A missed add is a row deleted from the mirror.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.jobs import sync as sync_module
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.probe import ProbeReport
from hotstar_sync.jobs.session import PassResult, Session
from hotstar_sync.jobs.sync import sync
from hotstar_sync.model.windows import Range, Window
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.conftest import _create_database, _drop_database, _with_dbname
from tests.jobs.mirror import assert_mirror_matches, mirror_rows
from tests.jobs.test_ingest import settings_for, sync_log


def ghost(db_url: str, start_date: int, n: int = 1) -> list[str]:
    """Rows in the mirror that the API does not have, at `start_date`."""
    with psycopg.connect(db_url) as conn:
        ids = [str(9_000_000_000 + start_date % 1000 * 100 + k) for k in range(n)]
        for k, cid in enumerate(ids):
            conn.execute(
                "INSERT INTO hotstar_movies (hotstar_id, content_id, title, start_date,"
                " content_hash, raw_response)"
                " SELECT hotstar_id + 10000000 + %s, %s, title, %s, 'x', raw_response"
                " FROM hotstar_movies WHERE NOT is_deleted ORDER BY id LIMIT 1",
                (start_date % 1000 * 100 + k, cid, start_date),
            )
    return ids


def heaviest_second(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT start_date FROM hotstar_movies GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0])


CONFIG = SimulatorConfig(movies=8_000, seed=41, rate_limit=0, cluster_size=1_500)


@pytest.fixture(scope="module")
def ingested_template(pg_server_url, _migrated_template):
    """One ingest of CONFIG's catalogue, cloned for each test (the same seed gives the same
    catalogue, so a fresh simulator per test matches it)."""
    name = _create_database(pg_server_url, template=_migrated_template)
    url = _with_dbname(pg_server_url, name)
    with serve_in_thread(CONFIG) as sim:
        ingest(settings_for(sim.base_url, url))
    yield name
    _drop_database(pg_server_url, name)


@pytest.fixture
def loaded(pg_server_url, ingested_template):
    name = _create_database(pg_server_url, template=ingested_template)
    url = _with_dbname(pg_server_url, name)
    with serve_in_thread(CONFIG) as sim:
        yield sim, settings_for(sim.base_url, url, reconcile_every_days=30), url
    _drop_database(pg_server_url, name)


@pytest.fixture
def db_url(loaded):
    return loaded[2]


def test_a_quiet_day_costs_the_sync_and_one_probe(loaded, db_url):
    _sim, settings, _ = loaded
    report = sync(settings)
    assert report.reconcile is None and report.probe is not None
    assert report.probe.drift == 0 and report.requests == 2  # sync + probe
    assert sync_log(db_url)[-1]["details"]["probe"]["requests"] == 1


@pytest.mark.parametrize("where", ["zero", "year3001", "cluster", "ordinary"])
def test_one_vanish_anywhere_is_found_the_same_day_in_twelve_requests(loaded, db_url, where):
    _sim, settings, _ = loaded
    second = {"zero": 0, "year3001": 32535072000, "ordinary": 1_234_567_890}.get(where)
    (cid,) = ghost(db_url, heaviest_second(db_url) if second is None else second)
    report = sync(settings)
    assert report.probe is not None and report.probe.vanished == 1
    assert mirror_rows(db_url)[cid]["deleted_reason"] == "vanished"
    assert report.requests <= 12


def test_several_vanishes_in_one_window_and_an_add_beside_them(loaded, db_url):
    sim, settings, _ = loaded
    ghosts = ghost(db_url, 1_234_567_890, n=4)
    day = sim.catalog.apply_day(back_catalogue_adds=1)
    report = sync(settings)
    rows = mirror_rows(db_url)
    assert {rows[c]["deleted_reason"] for c in ghosts} == {"vanished"}
    assert day.back_catalogue_added[0] in rows
    assert report.probe is not None
    # With a full pass this cheap (8,000 movies: ten requests), four differences may be
    # left to the reconcile the probe asks for; either way they are found the same day.
    found = report.probe.vanished + (report.reconcile.vanished if report.reconcile else 0)
    assert found == 4 and (report.probe.fell_back == (report.reconcile is not None))


def test_a_missed_add_is_found_and_stored(loaded, db_url):
    sim, settings, _ = loaded
    with psycopg.connect(db_url) as conn:
        (cid,) = conn.execute(
            "DELETE FROM hotstar_movies WHERE id = (SELECT max(id) FROM hotstar_movies)"
            " RETURNING content_id"
        ).fetchone() or ("",)
    report = sync(settings)
    assert report.probe is not None and report.probe.missing == 1
    assert cid in mirror_rows(db_url)
    assert_mirror_matches(db_url, sim.catalog.truth())


def test_churn_while_probing_deletes_nothing_that_exists(loaded, db_url):
    sim, settings, _ = loaded
    ghost(db_url, 1_234_567_890)
    sim.faults.set(churn_rate=0.5, churn_items=2)
    sync(settings, force=True)
    sim.faults.set(churn_rate=0.0)
    truth = sim.catalog.truth()
    vanished = {c for c, r in mirror_rows(db_url).items() if r["deleted_reason"] == "vanished"}
    assert not vanished & set(truth.items)


def test_the_guard_holds_back_a_vanish_found_by_the_probe(loaded, db_url):
    _, settings, _ = loaded
    (cid,) = ghost(db_url, 1_234_567_890)
    strict = settings.model_copy(update={"delete_guard_fraction": 0.0})
    report = sync(strict)
    assert report.status == "refused" and report.probe is not None and report.probe.refused
    assert mirror_rows(db_url)[cid]["deleted_reason"] is None
    assert sync_log(db_url)[-1]["status"] == "refused"


def test_verify_reports_drift_read_only_and_exits_5(loaded, db_url):
    sim, _settings, _ = loaded
    env = {
        "DATABASE_URL": db_url,
        "HOTSTAR_API_BASE_URL": sim.base_url,
        "HOTSTAR_RATE_LIMIT_RPS": "0",
    }
    clean = CliRunner().invoke(app, ["verify"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "movie: 1 request(s)" in clean.stdout
    # Every type is named; those never loaded here are not probed (nor taken for drift).
    assert "show: never loaded here, not probed" in clean.stdout
    assert "season: searched per show, no count probe" in clean.stdout
    ghost(db_url, 0)
    drift = CliRunner().invoke(app, ["verify", "--type", "movie"], env=env)
    assert drift.exit_code == 5
    assert "movie count probes" in drift.stdout and "-1" in drift.stdout
    assert drift.stderr.startswith("error: movie: the API holds ")
    assert all(r["deleted_reason"] != "vanished" for r in mirror_rows(db_url).values())
    # A type asked for by name is probed, loaded or not; an empty mirror is no "0 windows".
    shows = CliRunner().invoke(app, ["verify", "--type", "show"], env=env)
    assert shows.exit_code == 5
    assert "present rows; 0 window(s) differ" not in shows.stderr
    assert shows.stderr.startswith("error: show: the API holds ")


def test_an_item_moved_while_the_sync_runs_is_not_taken_for_a_removal(loaded, db_url, monkeypatch):
    sim, settings, _ = loaded
    ghost_second = 1_234_567_890
    (removed,) = ghost(db_url, ghost_second)  # so that the counts differ
    movies = sim.catalog.collection("movie")
    moved = min(movies.latest().values(), key=lambda e: (e.index["startDate"], e.content_id))
    new_second = ghost_second + 1
    real_probe = sync_module.probe

    def moved_then_probed(*args: Any, **kwargs: Any) -> Any:
        # Its startDate moves after the sync read its update window, before the probe: the
        # mirror has it at its old second, the API next to the ghost, whose drift it hides.
        change = moved.changed(startDate=new_second, updateDate=int(time.time()) + 1)
        movies.stage([(moved.content_id, change)], time.time())
        return real_probe(*args, **kwargs)

    monkeypatch.setattr(sync_module, "probe", moved_then_probed)
    report = sync(settings)
    assert report.probe is not None and report.probe.leaves
    row = mirror_rows(db_url)[moved.content_id]
    assert row["deleted_reason"] is None and row["start_date"] == new_second
    assert report.probe.vanished == 0 and report.status == "completed"
    # The ghost is found once the mirror has the move (the next day's probe).
    monkeypatch.setattr(sync_module, "probe", real_probe)
    assert sync(settings).probe.vanished == 1  # type: ignore[union-attr]
    assert mirror_rows(db_url)[removed]["deleted_reason"] == "vanished"
    assert_mirror_matches(db_url, sim.catalog.truth())


def test_a_probe_walk_that_does_not_verify_deletes_nothing(loaded, db_url, monkeypatch):
    _sim, settings, _ = loaded
    (cid,) = ghost(db_url, 1_234_567_890)
    scan = Session.scan

    def unverified_walks(
        self: Session, run: Any, kind: Any, root: Window | None = None, **kwargs: Any
    ) -> PassResult:
        result = scan(self, run, kind, root, **kwargs)
        # The probe's walks of startDate windows, nothing else.
        if root is not None and root.update == Range():
            result.scanner.result.verified = False
        return result

    monkeypatch.setattr(Session, "scan", unverified_walks)
    report = sync(settings)
    assert report.probe is not None and report.probe.unverified
    assert report.probe.vanished == 0 and not report.probe.refused
    assert mirror_rows(db_url)[cid]["deleted_reason"] is None
    # The day's changes are in: the question of deletions is deferred to the next run, a
    # recorded note, not an incomplete day (`health` warns if it stays unchecked).
    assert report.status == "completed" and report.probe.deferred
    last = sync_log(db_url)[-1]
    assert last["status"] == "completed" and last["incomplete_windows"] is None
    assert last["details"]["probe"]["deferred"] is True
    assert last["details"]["probe"]["unverified"] == report.probe.unverified


def test_a_guard_refusal_outranks_an_unverified_walk(loaded, db_url, monkeypatch):
    # The probe's verdict as sync() receives it (the probe itself is tested above): one
    # leaf found a removal the guard held back, another's walk did not verify.
    _sim, settings, _ = loaded
    verdict = ProbeReport(refused=True, would_vanish=1, unverified=["start=0..0;update=..;"])
    monkeypatch.setattr(sync_module, "probe", lambda *args, **kwargs: verdict)
    report = sync(settings)
    # A person must look (exit 4), which an incomplete day (exit 5, retried) would hide.
    assert report.status == "refused"
    last = sync_log(db_url)[-1]
    assert last["status"] == "refused"
    assert last["details"]["probe"]["unverified"] == verdict.unverified

"""Odd data, unattended: no single odd item or answer may stop, stall or skew the mirror.

Each test serves a catalogue with one kind of odd item (`simulator.quirks`) or odd answer
(the envelope faults) over HTTP into a real PostgreSQL, and checks that the run ends as it
should: the odd item quarantined with its reason (or the odd answer retried, then
reported), every other item stored, the run completed where the data allows it, and the
next run not blocked.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from hotstar_sync.cli import app
from hotstar_sync.jobs.ingest import ingest
from hotstar_sync.jobs.reconcile import reconcile
from hotstar_sync.jobs.sync import sync
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from hotstar_sync.simulator.config import QuirkSettings
from tests.jobs.mirror import assert_mirror_matches, mirror_rows
from tests.jobs.test_ingest import settings_for, sync_log

#: Over 10,000 items, so the root window is split and counted from its children.
MOVIES = 12_500


def quarantine(db_url: str) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT item_key, reason FROM hotstar_quarantine WHERE resolved_at IS NULL"
        ).fetchall()
    return dict(rows)


def config(quirks: QuirkSettings, **overrides: Any) -> SimulatorConfig:
    options: dict[str, Any] = {
        "movies": MOVIES,
        "seed": 21,
        "rate_limit": 0,
        "cluster_size": 2_000,
        "malformed": 0,
        "quirks": quirks,
    }
    return SimulatorConfig(**(options | overrides))


def ingest_then_sync(db_url: str, cfg: SimulatorConfig) -> tuple[Any, Any, Any]:
    """A first load, a day of changes and its sync (which reconciles when its count probe
    cannot place the day's deletions), and the truth after it."""
    with serve_in_thread(cfg) as sim:
        settings = settings_for(sim.base_url, db_url)
        loaded = ingest(settings)
        sim.catalog.apply_day(adds=20, updates=30, unpublish=5, removals=3)
        synced = sync(settings)
        assert synced.reconcile is None or synced.reconcile.status == "completed"
        return loaded, synced, sim.catalog.truth()


def odd_count(truth: Any) -> int:
    return sum(t.malformed is not None for t in truth.items.values())


@pytest.mark.parametrize("reading", ["zero", "date", "excluded"])
@pytest.mark.parametrize("field", ["odd_start_dates", "odd_update_dates", "odd_premium"])
def test_a_filter_value_of_the_wrong_type_is_counted_where_the_api_put_it(db_url, field, reading):
    quirks = QuirkSettings(**{field: 8}, odd_reading=reading)
    # A second of 10,500 items: it is split by updateDate, then premium, so odd values of
    # those fields meet a split too.
    loaded, synced, truth = ingest_then_sync(db_url, config(quirks, cluster_size=10_500))
    assert loaded.status == "completed", loaded.unverified
    assert synced.status == "completed"
    assert_mirror_matches(db_url, truth)
    # The odd values that break the contract are quarantined, the rest (null) stored.
    reasons = quarantine(db_url).values()
    assert len(reasons) == odd_count(truth) > 0
    name = {"odd_start_dates": "startDate", "odd_update_dates": "updateDate"}.get(field, "premium")
    assert all(r.startswith(f"{name}: ") for r in reasons), reasons


def test_keyless_items_are_distinct_answers_and_quarantined(db_url):
    loaded, synced, truth = ingest_then_sync(db_url, config(QuirkSettings(keyless=6)))
    assert loaded.status == "completed" and synced.status == "completed"
    assert_mirror_matches(db_url, truth)
    held = quarantine(db_url)
    assert len(held) == 6 and all(key.startswith("sha:") for key in held)
    assert sorted(set(held.values())) == [
        "contentId: Field required",
        "contentId: Input should be a valid string",
    ]


def test_a_content_id_served_twice_is_one_item_and_reported(db_url):
    loaded, synced, truth = ingest_then_sync(db_url, config(QuirkSettings(duplicate_keys=3)))
    assert loaded.status == "completed" and synced.status == "completed"
    # The first served is the mirror's; the twin (its own id) is quarantined with why.
    assert_mirror_matches(db_url, truth)
    twins = {c[: -len("~twin")]: t for c, t in truth.items.items() if c.endswith("~twin")}
    rows = mirror_rows(db_url)
    held = quarantine(db_url)
    assert len(twins) == 3 and len(held) == 3
    for content_id, twin in twins.items():
        assert rows[content_id]["raw_response"] == truth.items[content_id].item
        key = f"{content_id}#id={twin.item['id']}"
        assert held[key] == (
            f"contentId: {content_id} served twice in one answer "
            f"(ids {truth.items[content_id].item['id']} and {twin.item['id']}); the lower id is kept"
        )


def test_an_unparseable_item_costs_only_itself(db_url):
    loaded, synced, truth = ingest_then_sync(db_url, config(QuirkSettings(unparseable=6)))
    assert loaded.status == "completed" and synced.status == "completed"
    assert_mirror_matches(db_url, truth)
    reasons = sorted(quarantine(db_url).values())
    assert len(reasons) == 6
    assert all(r.startswith("item: not valid JSON (") for r in reasons)
    assert any("surrogate" in r for r in reasons) and any("depth" in r for r in reasons)
    assert any("UTF-8" in r for r in reasons)


def test_items_that_are_not_objects_are_quarantined(db_url):
    loaded, synced, truth = ingest_then_sync(db_url, config(QuirkSettings(non_objects=4)))
    assert loaded.status == "completed" and synced.status == "completed"
    assert_mirror_matches(db_url, truth)
    held = quarantine(db_url)
    assert list(held.values()) == ["item: Input should be a valid dictionary"] * 4


def test_every_quirk_at_once_then_a_reconcile(db_url):
    quirks = QuirkSettings(
        odd_start_dates=4,
        odd_update_dates=4,
        odd_premium=4,
        odd_reading="date",
        keyless=3,
        duplicate_keys=2,
        unparseable=3,
        non_objects=3,
    )
    cfg = config(quirks, malformed=5)
    with serve_in_thread(cfg) as sim:
        settings = settings_for(sim.base_url, db_url)
        assert ingest(settings).status == "completed"
        sim.catalog.apply_day(updates=40, removals=10)
        assert sync(settings, reconcile=False).status == "completed"
        assert reconcile(settings).status == "completed"
        truth = sim.catalog.truth()
    assert_mirror_matches(db_url, truth)
    assert [r["status"] for r in sync_log(db_url)] == ["completed"] * 3


@pytest.mark.parametrize("fault", ["items_null", "items_object", "absurd_total"])
def test_a_malformed_envelope_is_retried_then_named(db_url, fault):
    with serve_in_thread(config(QuirkSettings(), movies=3_000)) as sim:
        settings = settings_for(sim.base_url, db_url, max_retries=2)
        sim.faults.fail_next(2, fault)  # within the retries: the run completes
        assert ingest(settings).status == "completed"
        assert_mirror_matches(db_url, sim.catalog.truth())
        sim.faults.fail_next(10, fault)  # beyond them: the run fails, naming the answer
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "0",
            "HOTSTAR_MAX_RETRIES": "2",
            "HOTSTAR_CIRCUIT_BREAKER_SECONDS": "1",
        }
        result = CliRunner().invoke(app, ["ingest", "--type", "movie"], env=env)
    assert result.exit_code == 1, result.output
    said = {
        "items_null": "body.results.items is null, not a list of items",
        "items_object": "body.results.items is an object, not a list of items",
        "absurd_total": "totalResults 1000000000000 is not a count from 0 to 2,147,483,647",
    }[fault]
    assert "error: /movie/search orderBy=contentId order=asc offset=0 size=1000" in result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.output
    run = sync_log(db_url)[-1]
    assert run["status"] == "failed" and said in run["errors"][-1]


def test_an_empty_show_catalogue_has_complete_empty_seasons(db_url):
    cfg = SimulatorConfig(
        movies=50, shows=0, episodes=0, matches=30, channels=3, seed=4, rate_limit=0, malformed=0
    )
    with serve_in_thread(cfg) as sim:
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "0",
        }
        for command in (["ingest"], ["sync"], ["reconcile"]):
            result = CliRunner().invoke(app, command, env=env)
            assert result.exit_code == 0, (command, result.output)
    runs = [(r["content_type"], r["status"]) for r in sync_log(db_url)]
    assert ("show", "completed") in runs and ("season", "completed") in runs
    assert all(status == "completed" for _, status in runs)


def test_seasons_before_any_show_was_loaded_stay_a_usage_error(db_url):
    with serve_in_thread(SimulatorConfig(movies=10, shows=5, episodes=0, seed=1)) as sim:
        env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
        result = CliRunner().invoke(app, ["ingest", "--type", "season"], env=env)
    assert result.exit_code == 2
    assert "the mirror holds no show yet" in result.stderr
    assert sync_log(db_url) == []


def test_an_api_that_unpublishes_everything_is_refused_then_forced(db_url):
    with serve_in_thread(config(QuirkSettings(), movies=2_000)) as sim:
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "0",
        }
        assert ingest(settings_for(sim.base_url, db_url)).status == "completed"
        live = sum(not r["is_deleted"] for r in mirror_rows(db_url).values())
        sim.catalog.apply_day(unpublish=2_000)  # every published item, at once
        result = CliRunner().invoke(app, ["sync", "--type", "movie"], env=env)
        assert result.exit_code == 4, result.output
        assert f"more than 2% of {live:,} live rows in one run" in result.stderr
        refused = sync_log(db_url)[-1]
        assert refused["status"] == "refused"
        with psycopg.connect(db_url) as conn:
            (deleted,) = conn.execute(
                "SELECT count(*) FROM hotstar_change_log WHERE run_id = %s AND change = 'delete'",
                (refused["id"],),
            ).fetchone()
        assert deleted <= 0.02 * live  # nothing past the guard
        health = CliRunner().invoke(app, ["health"], env=env)
        assert "deletion guard tripped" in health.output and "UNPUBLISHED" in health.output
        # Nothing else changed meanwhile: the next sync refuses again, --force applies it.
        assert CliRunner().invoke(app, ["sync", "--type", "movie"], env=env).exit_code == 4
        forced = CliRunner().invoke(app, ["sync", "--type", "movie", "--force"], env=env)
        assert forced.exit_code == 0, forced.output
        assert_mirror_matches(db_url, sim.catalog.truth())


def test_a_reconcile_that_would_expire_everything_is_refused(db_url):
    with serve_in_thread(config(QuirkSettings(), movies=1_500)) as sim:
        settings = settings_for(sim.base_url, db_url)
        assert ingest(settings).status == "completed"
        with psycopg.connect(db_url) as conn:  # every endDate passes at once
            conn.execute("UPDATE hotstar_movies SET end_date = 1000 WHERE NOT is_deleted")
        report = reconcile(settings)
        assert report.status == "refused"
        assert not any(
            r["deleted_reason"] == "expired" and r["end_date"] == 1000
            for r in mirror_rows(db_url).values()
        )


def backdate_quarantine(db_url: str, days: int) -> None:
    """As if the quarantined answers had been held for `days` already."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE hotstar_quarantine SET first_seen_at = first_seen_at - make_interval(days => %s)",
            (days,),
        )


def stale_rows_are_reported(db_url: str, env: dict[str, str], count: int) -> None:
    """The last run counted `count` stale rows; `status` shows them at once, `health` warns
    once the oldest is over a day behind."""
    assert sync_log(db_url)[-1]["details"]["stale_rows"] == count
    shown = CliRunner().invoke(app, ["status"], env=env)
    assert f"movie: {count} stored row(s) behind the API" in shown.output, shown.output
    assert f"{count} stored row(s) kept their older version" in shown.output
    assert "behind the API" not in CliRunner().invoke(app, ["health"], env=env).output
    backdate_quarantine(db_url, 2)
    health = CliRunner().invoke(app, ["health"], env=env)
    assert health.exit_code == 1, health.output
    assert f"WARNING: {count} stored row(s) behind the API for over 1.0 days" in health.output


def test_an_id_claimed_by_another_item_stays_with_its_holder(db_url):
    with serve_in_thread(config(QuirkSettings(), movies=3_000)) as sim:
        settings = settings_for(sim.base_url, db_url)
        env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
        assert ingest(settings).status == "completed"
        before = mirror_rows(db_url)
        day = sim.catalog.apply_day(shared_ids=3)
        assert sync(settings).status == "completed"
        truth = sim.catalog.truth()
        # Each holder's new title and UNPUBLISHED state arrived; each claimant was held.
        assert_mirror_matches(db_url, truth)
        rows = mirror_rows(db_url)
        assert sum(rows[c]["deleted_reason"] == "unpublished" for c in day.updated) == 2
        held = quarantine(db_url)
        assert sorted(held) == sorted(day.shared_ids)
        for claimant in day.shared_ids:
            holder = next(ids[0] for ids in truth.id_clashes.values() if claimant in ids)
            assert held[claimant].endswith(f"already belongs to contentId {holder}")
            # The claimant's row keeps its last valid version meanwhile, and says so.
            assert rows[claimant]["raw_response"] == before[claimant]["raw_response"]
        stale_rows_are_reported(db_url, env, 3)
        # The next run is not blocked, and still counts them.
        assert sync(settings).status == "completed"


def test_a_stored_item_that_comes_malformed_keeps_its_last_valid_version(db_url):
    with serve_in_thread(config(QuirkSettings(), movies=3_000)) as sim:
        settings = settings_for(sim.base_url, db_url)
        env = {"DATABASE_URL": db_url, "HOTSTAR_API_BASE_URL": sim.base_url}
        assert ingest(settings).status == "completed"
        before = mirror_rows(db_url)
        day = sim.catalog.apply_day(malformed=4, updates=10)
        assert sync(settings).status == "completed"
        assert_mirror_matches(db_url, sim.catalog.truth())
        rows = mirror_rows(db_url)
        # Each stays live with the version stored before it broke; the answer is held.
        assert sorted(quarantine(db_url)) == sorted(day.malformed)
        for content_id in day.malformed:
            assert rows[content_id]["raw_response"] == before[content_id]["raw_response"]
            assert rows[content_id]["is_deleted"] == before[content_id]["is_deleted"]
        stale_rows_are_reported(db_url, env, 4)
        # A reconcile serves them again: still counted, nothing deleted.
        assert reconcile(settings).status == "completed"
        assert sync_log(db_url)[-1]["details"]["stale_rows"] == 4
        assert not any(
            mirror_rows(db_url)[c]["deleted_reason"]
            for c in day.malformed
            if not before[c]["is_deleted"]
        )


def test_a_sync_while_the_index_settles_completes_and_defers_its_deletions(db_url):
    # Each change of the day lands at a moment of its own over 4 s, while a sync paced at
    # 5 requests/s reads: the API's total moves under it.
    cfg = config(QuirkSettings(), index_lag_spread_seconds=4.0)
    with serve_in_thread(cfg) as sim:
        env = {
            "DATABASE_URL": db_url,
            "HOTSTAR_API_BASE_URL": sim.base_url,
            "HOTSTAR_RATE_LIMIT_RPS": "5",
        }
        assert ingest(settings_for(sim.base_url, db_url)).status == "completed"
        day = sim.catalog.apply_day(adds=150, updates=100, unpublish=10, removals=60)
        result = CliRunner().invoke(app, ["sync", "--type", "movie"], env=env)
        assert result.exit_code == 0, result.output
        assert "the index was still settling: deletions deferred" in result.output
        run = sync_log(db_url)[-1]
        assert run["status"] == "completed" and run["details"]["probe"]["deferred"]
        # Nothing the API still serves was deleted as vanished.
        truth, rows = sim.catalog.truth(), mirror_rows(db_url)
        assert not [
            c for c in truth.items if (rows.get(c) or {}).get("deleted_reason") == "vanished"
        ]
        health = CliRunner().invoke(app, ["health"], env=env)
        assert health.exit_code == 0, health.output
        # Once the index has settled, the next sync converges.
        time.sleep(max(0.0, day.visible_at - time.time()))
        again = CliRunner().invoke(app, ["sync", "--type", "movie"], env=env)
        assert again.exit_code == 0, again.output
        daily = [r for r in sync_log(db_url) if r["sync_type"] == "daily"][-1]
        assert not daily["details"]["probe"]["deferred"]
        assert_mirror_matches(db_url, sim.catalog.truth())

"""The whole catalogue (issue 8): every type through one session, against the simulator over
HTTP and a real PostgreSQL: ingest, a day of changes + sync, reconcile, each equal to the
truth; and each type's difference (numeric show ids, seasons per show, episodes over the cap,
matches' live partitions, channels' millisecond update filters, one pacer)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from hotstar_sync.errors import AuthError, ConfigError
from hotstar_sync.jobs.ingest import ingest_types
from hotstar_sync.jobs.reconcile import reconcile_types
from hotstar_sync.jobs.sync import sync_types
from hotstar_sync.model.content import CONTENT_TYPES
from hotstar_sync.ops.health import check
from hotstar_sync.simulator import SimulatorConfig, serve_in_thread
from tests.jobs.mirror import assert_type_matches, rows_of
from tests.jobs.test_ingest import settings_for, sync_log

ALL = list(CONTENT_TYPES.values())
# Small, but over the cap where it matters: 12,000 episodes cannot be one window.
SIZES: dict[str, Any] = {
    "movies": 400,
    "shows": 60,
    "episodes": 12_000,
    "matches": 1_500,
    "channels": 40,
}


#: Twenty shows (and so their seasons), nothing else, nothing malformed.
SHOWS_ONLY = SimulatorConfig(
    rate_limit=0, movies=0, shows=20, episodes=0, matches=0, channels=0, malformed=0
)
SHOWS_AND_SEASONS = [CONTENT_TYPES["show"], CONTENT_TYPES["season"]]


def windows_of(db_url: str, run_id: int) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT window_key, status FROM hotstar_sync_windows WHERE run_id = %s", (run_id,)
        ).fetchall()


def assert_all_match(db_url: str, sim: Any) -> None:
    for kind in CONTENT_TYPES:
        assert_type_matches(db_url, kind, sim.catalog.truth(kind))


def test_every_type_ingest_sync_reconcile_equal_the_truth(db_url):
    config = SimulatorConfig(seed=21, rate_limit=0, cluster_size=100, **SIZES)
    with serve_in_thread(config) as sim:
        # A short lookback: initial updateDates lie before midnight, which may be minutes ago.
        settings = settings_for(
            sim.base_url, db_url, lookback_seconds=60, delete_guard_fraction=0.5
        )
        ingested = ingest_types(settings, ALL)
        assert [r.status for r in ingested] == ["completed"] * len(ALL)
        assert_all_match(db_url, sim)
        by_type = {r.content_type: r for r in ingested}

        # Seasons: one request per show, no more (every show has at most 20 seasons).
        shows = sim.catalog.truth("show")
        assert by_type["season"].requests == len(shows.items)
        # Episodes: more than 10,000 in the root window, so it was split.
        episode_windows = windows_of(db_url, by_type["episode"].run_id)
        assert len(episode_windows) >= 3  # the root and its children, each checked
        assert {status for _, status in episode_windows} == {"done"}
        # Matches: the live=true and live=false lists, each enumerated on its own.
        match_keys = {key for key, _ in windows_of(db_url, by_type["match"].run_id)}
        assert {k.rsplit(";", 1)[1] for k in match_keys} == {"live=true", "live=false"}
        matches = rows_of(db_url, "match")
        assert {r["live"] for r in matches.values()} == {True, False}
        # A show's contentId is a JSON number: stored as its digits, kept a number in raw.
        stored = rows_of(db_url, "show")
        for cid, row in stored.items():
            assert isinstance(row["raw_response"]["contentId"], int)
            assert cid == str(row["raw_response"]["contentId"])

        # A day of changes for every type.
        days = {
            "movie": sim.catalog.apply_day(adds=5, updates=10, unpublish=2, removals=2),
            "show": sim.catalog.apply_day(adds=2, updates=3, removals=1, content_type="show"),
            "episode": sim.catalog.apply_day(
                adds=6, updates=12, unpublish=2, removals=3, content_type="episode"
            ),
            "match": sim.catalog.apply_day(adds=4, updates=8, removals=2, content_type="match"),
            "channel": sim.catalog.apply_day(updates=2, content_type="channel"),
        }
        # A removed show takes its episodes with it: more than a count probe bisects, so
        # the episodes' sync falls back to a reconcile (no reconcile is due otherwise).
        synced = {r.content_type: r for r in sync_types(settings, ALL)}
        assert [r.status for r in synced.values()] == ["completed"] * len(ALL)
        assert_all_match(db_url, sim)

        # Seasons: only the shows that changed (or are new, or went) were asked.
        show_day = days["show"]
        changed = show_day.added + show_day.updated + show_day.removed
        truth_ids = {cid: t.item["id"] for cid, t in sim.catalog.truth("show").items.items()}
        asked = {
            int(key.rsplit("=", 1)[1]) for key, _ in windows_of(db_url, synced["season"].run_id)
        }
        assert synced["season"].parents == len(set(changed)) == len(asked)
        assert {truth_ids[c] for c in show_day.added + show_day.updated} <= asked
        # One request per show asked, plus one second walk per show whose seasons went.
        assert synced["season"].requests <= len(asked) + len(show_day.removed)
        # Channels: the millisecond filter returned the two changed channels, not all 40
        # (seconds read as milliseconds would reach back to 1970).
        channel_run = next(r for r in sync_log(db_url) if r["id"] == synced["channel"].run_id)
        assert channel_run["total_items_fetched"] == 2
        channel_counts = synced["channel"].counts  # a malformed channel stays quarantined
        assert channel_counts.updated + channel_counts.quarantined == 2

        reconciled = reconcile_types(settings, ALL)
        assert [r.status for r in reconciled] == ["completed"] * len(ALL)
        assert_all_match(db_url, sim)
    runs = [(r["content_type"], r["sync_type"], r["status"]) for r in sync_log(db_url)]
    assert {s for _, _, s in runs} == {"completed"}
    for sync_type in ("initial", "daily"):  # one run per type per job, in the job's order
        assert [k for k, t, _ in runs if t == sync_type] == list(CONTENT_TYPES)
    assert {k for k, t, _ in runs if t == "reconcile"} == set(CONTENT_TYPES)


def test_a_quiet_day_costs_a_request_or_two_per_type_and_asks_no_show(db_url):
    config = SimulatorConfig(
        seed=5, rate_limit=0, movies=300, shows=30, episodes=900, matches=500, channels=40
    )
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url, lookback_seconds=60)
        ingest_types(settings, ALL)
        synced = {r.content_type: r for r in sync_types(settings, ALL, reconcile=False)}
    assert synced["season"].parents == 0 and synced["season"].requests == 0
    for kind, report in synced.items():
        assert report.counts.added == report.counts.updated == 0, kind
        # The update window (one per live partition for matches) and the count probe.
        assert report.requests <= (3 if kind == "match" else 2), (kind, report.requests)


def test_a_season_indexed_after_its_shows_change_is_asked_for_the_next_day(db_url):
    # The search index serves the show's change at once, its seasons' 2 s later: the
    # day's season run asks the show too early. The next day asks it again.
    config = replace(SHOWS_ONLY, seed=8, season_lag_seconds=2)
    kinds = SHOWS_AND_SEASONS
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url, lookback_seconds=60)
        ingest_types(settings, kinds)
        day = sim.catalog.apply_day(updates=2, adds=1, content_type="show")
        seasons = day.related["season"]
        assert len(seasons.updated) == 2 and seasons.added
        first = {r.content_type: r for r in sync_types(settings, kinds, reconcile=False)}
        assert first["season"].parents == 3
        assert first["season"].counts.added == first["season"].counts.updated == 0
        time.sleep(max(0.0, seasons.visible_at - time.time()))
        # No show changed since: only the lookback brings the three shows back.
        again = {r.content_type: r for r in sync_types(settings, kinds, reconcile=False)}
        assert again["show"].counts.added == again["show"].counts.updated == 0
        assert again["season"].parents == 3
        assert again["season"].counts.updated == 2
        assert again["season"].counts.added == len(seasons.added)
        assert_type_matches(db_url, "season", sim.catalog.truth("season"))


def test_seasons_gone_with_their_show_are_reported_and_a_refusal_says_how_many(db_url):
    config = replace(SHOWS_ONLY, seed=12)
    kinds = SHOWS_AND_SEASONS
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url, delete_guard_fraction=0.5)
        ingest_types(settings, kinds)

        def live(ids: list[str]) -> int:
            rows = rows_of(db_url, "season")
            return sum(not rows[cid]["is_deleted"] for cid in ids)

        gone = sim.catalog.apply_day(removals=1, content_type="show").related["season"].removed
        live_gone = live(gone)
        synced = {r.content_type: r for r in sync_types(settings, kinds, reconcile=False)}
        season = synced["season"]
        assert season.status == "completed" and season.vanished == live_gone >= 1
        log = {r["id"]: r for r in sync_log(db_url)}[season.run_id]
        assert log["items_deleted"] == live_gone
        assert log["details"]["vanished"] == live_gone
        assert live(gone) == 0

        # Over the guard: nothing deleted, and the run says what it held back.
        more = sim.catalog.apply_day(removals=3, content_type="show").related["season"].removed
        sync_types(settings, kinds[:1], reconcile=False)  # the shows go
        strict = settings_for(sim.base_url, db_url, delete_guard_fraction=0)
        (season,) = sync_types(strict, kinds[1:], reconcile=False)
        live_more = live(more)
        assert season.status == "refused" and season.vanished == 0 and live(more) == live_more
        assert season.would_vanish == live_more >= 1 and season.live_rows > live_more
        log = {r["id"]: r for r in sync_log(db_url)}[season.run_id]
        assert log["details"]["would_vanish"] == live_more
    lines = check(db_url).lines()
    assert (
        f"WARNING: season: deletion guard tripped: the parents' walks of daily sync run "
        f"{season.run_id} ("
    ) in lines[0]
    assert f"found {live_more} vanished row(s) and deleted nothing" in lines[0]


def test_a_type_that_fails_does_not_stop_the_types_after_it(db_url):
    config = SimulatorConfig(
        seed=3, rate_limit=0, movies=300, shows=0, episodes=0, matches=0, channels=20
    )
    kinds = [CONTENT_TYPES["movie"], CONTENT_TYPES["channel"]]
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url)
        ingest_types(settings, kinds)
        sim.catalog.apply_day(updates=2, content_type="channel")
        sim.faults.fail_next(2, "forbidden")  # the movie sync's request, and its retry
        reported: list[Any] = []
        with pytest.raises(AuthError):
            sync_types(settings, kinds, reconcile=False, on_report=reported.append)
    assert [r.content_type for r in reported] == ["channel"]
    assert reported[0].status == "completed" and reported[0].counts.updated >= 1
    daily = [
        (r["content_type"], r["status"]) for r in sync_log(db_url) if r["sync_type"] == "daily"
    ]
    assert daily == [("movie", "failed"), ("channel", "completed")]


def test_seasons_before_any_show_is_one_error_and_leaves_no_failed_run(db_url):
    # Nothing is asked of the API (no server listens here): the shows are looked for first.
    settings = settings_for("http://127.0.0.1:9", db_url)
    with pytest.raises(ConfigError) as caught:
        ingest_types(settings, [CONTENT_TYPES["season"]])
    assert caught.value.message == (
        "season items are searched per show, and the mirror holds no show yet"
    )
    assert sync_log(db_url) == []  # health has no failed first load to warn about


def test_one_pacer_for_every_type_never_trips_the_partner_limit(db_url):
    # The simulator allows 12 requests/s per partner (one bucket for every path); the
    # client paces at 10/s. Pacers per type would together run over the limit and get 429s.
    config = SimulatorConfig(
        seed=3, rate_limit=12, movies=200, shows=12, episodes=300, matches=300, channels=40
    )
    with serve_in_thread(config) as sim:
        settings = settings_for(sim.base_url, db_url, rate_limit_rps=10)
        reports = ingest_types(settings, ALL)
        assert_all_match(db_url, sim)
    assert sum(r.requests for r in reports) >= 12 + 5
    errors = [e for run in sync_log(db_url) for e in (run["errors"] or [])]
    assert not [e for e in errors if "429" in e]

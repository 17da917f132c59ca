"""The page writer against the seed's way of writing, measured side by side in one run.

    .venv/bin/python bench/bench_writer.py [--items 51495] [--page-size 1000]

Builds realistic ~2.4 KB movie items in memory (the simulator's item maker), then loads them
into fresh scratch databases with the full schema (indexes, trigger, change log) at default
durability:

(a) `PageWriter`, one page of 1,000 items at a time (COPY + one classifying upsert);
(b) the seed's `save_movie`: one INSERT ... ON CONFLICT per movie through cursor.execute,
    a commit per page, as its ingest did;
and (a) once more over the same data, when nothing changed.

The server is DATABASE_URL or HOTSTAR_TEST_DATABASE_URL; the scratch databases are dropped
afterwards. Figures are printed, never asserted: the machine decides the absolutes, the
ratio is what this run shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg

from hotstar_sync.db.migrate import upgrade
from hotstar_sync.db.writer import PageCounts, PageWriter
from hotstar_sync.logging import configure_logging
from hotstar_sync.model import MOVIE
from hotstar_sync.model.validate import Row, prepare
from hotstar_sync.simulator.content import NO_END, Core
from hotstar_sync.simulator.movies import make_movie

CATALOGUE = 51_495
YEAR = 365 * 86400


def make_items(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` movies: ~7% UNPUBLISHED, ~3% past their endDate, startDates over decades."""
    rng = random.Random(seed)
    now = int(time.time())
    items = []
    for n in range(count):
        start = rng.randrange(0, now)
        end = now - rng.randrange(86400, 3 * YEAR) if rng.random() < 0.03 else NO_END
        core = Core(
            seq=n,
            id=100_000 + n,
            content_id=1_000_000_000 + n,
            start_date=start,
            end_date=end,
            update_date=start + rng.randrange(0, YEAR),
            premium=rng.random() < 0.4,
            published=rng.random() >= 0.07,
        )
        items.append(make_movie(rng, core))
    return items


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or os.environ.get("HOTSTAR_TEST_DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL or HOTSTAR_TEST_DATABASE_URL to a PostgreSQL server")
    return url


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A fresh database with the whole schema; dropped on the way out."""
    name = "hs_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(urlsplit(server)._replace(path="/" + name))
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pages(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def prepare_all(batches: list[list[dict[str, Any]]]) -> list[tuple[list[Row], list[Any]]]:
    now = time.time()
    return [prepare(MOVIE, batch, now) for batch in batches]


def write_all(url: str, prepared: list[tuple[list[Row], list[Any]]]) -> PageCounts:
    with psycopg.connect(url, autocommit=True) as conn:
        run = conn.execute(
            "INSERT INTO hotstar_sync_log (sync_type) VALUES ('initial') RETURNING id"
        )
        writer = PageWriter(conn, MOVIE, int(run.fetchone()[0]))  # type: ignore[index]
        total = PageCounts()
        for rows, rejects in prepared:
            total = total + writer.write_page(rows, rejects)
        return total


# The seed's save_movie (seed/000_...txt), plus content_hash: the schema requires it.
SEED_INSERT = """
INSERT INTO hotstar_movies (
    hotstar_id, content_id, title, description, content_type, year, duration, genre, lang,
    lang_objs, premium, vip, paid, asset_status, start_date, end_date, broadcast_date,
    thumbnail, portrait_thumbnail, images, source_images, deep_link_url,
    deep_link_url_living_room, play_uri, locators, actors, directors, producers, anchors,
    search_keywords, trailers, trailer_deep_links, parental_rating, parental_rating_name,
    channel_object, api_update_date, raw_response, content_hash
) VALUES (
    %(id)s, %(contentId)s, %(title)s, %(description)s, %(contentType)s, %(year)s,
    %(duration)s, %(genre)s, %(lang)s, %(langObjs)s, %(premium)s, %(vip)s, %(paid)s,
    %(assetStatus)s, %(startDate)s, %(endDate)s, %(broadCastDate)s, %(thumbnail)s,
    %(portraitThumbnail)s, %(images)s, %(sourceImages)s, %(deepLinkUrl)s,
    %(deepLinkUrlForLivingRoom)s, %(playUri)s, %(locators)s, %(actors)s, %(directors)s,
    %(producers)s, %(anchors)s, %(searchKeywords)s, %(trailers)s, %(trailerDeeplinks)s,
    %(parentalRating)s, %(parentalRatingName)s, %(channelObject)s, %(updateDate)s, %(raw)s,
    %(hash)s
)
ON CONFLICT (content_id) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description, year = EXCLUDED.year,
    duration = EXCLUDED.duration, genre = EXCLUDED.genre, lang = EXCLUDED.lang,
    lang_objs = EXCLUDED.lang_objs, premium = EXCLUDED.premium, vip = EXCLUDED.vip,
    paid = EXCLUDED.paid, asset_status = EXCLUDED.asset_status,
    start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
    thumbnail = EXCLUDED.thumbnail, portrait_thumbnail = EXCLUDED.portrait_thumbnail,
    images = EXCLUDED.images, source_images = EXCLUDED.source_images,
    deep_link_url = EXCLUDED.deep_link_url, play_uri = EXCLUDED.play_uri,
    locators = EXCLUDED.locators, actors = EXCLUDED.actors, directors = EXCLUDED.directors,
    search_keywords = EXCLUDED.search_keywords, parental_rating = EXCLUDED.parental_rating,
    parental_rating_name = EXCLUDED.parental_rating_name,
    channel_object = EXCLUDED.channel_object, api_update_date = EXCLUDED.api_update_date,
    raw_response = EXCLUDED.raw_response, content_hash = EXCLUDED.content_hash,
    last_synced_at = CURRENT_TIMESTAMP
"""
SEED_JSON = [
    "genre",
    "lang",
    "langObjs",
    "images",
    "sourceImages",
    "locators",
    "actors",
    "directors",
    "producers",
    "anchors",
    "searchKeywords",
    "trailers",
    "trailerDeeplinks",
]
SEED_OPTIONAL = ["broadCastDate", "portraitThumbnail", "deepLinkUrlForLivingRoom", "playUri"]


def seed_params(movie: dict[str, Any]) -> dict[str, Any]:
    """save_movie's parameters, as the seed built them (stdlib json, [] for absent arrays)."""
    raw = json.dumps(movie)
    params = {**movie, "raw": raw, "hash": hashlib.md5(raw.encode()).hexdigest()}
    params.update({name: json.dumps(movie.get(name, [])) for name in SEED_JSON})
    params["channelObject"] = json.dumps(movie.get("channelObject"))
    params.update({name: movie.get(name) for name in SEED_OPTIONAL})
    return params


def seed_write_all(url: str, batches: list[list[dict[str, Any]]]) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for batch in batches:
            for movie in batch:
                cur.execute(SEED_INSERT, seed_params(movie))
            conn.commit()


def main() -> None:
    configure_logging()  # info and up: library debug lines (one per request) are noise here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=CATALOGUE)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    server = server_url()

    items = make_items(args.items)
    size = sum(len(orjson.dumps(item)) for item in items) / len(items)
    batches = pages(items, args.page_size)
    print(f"{len(items):,} movie items, {size:,.0f} bytes each on average, {len(batches)} pages")

    prep_seconds, prepared = timed(lambda: prepare_all(batches))
    with scratch_database(server) as url:
        first, counts = timed(lambda: write_all(url, prepared))
        second, again = timed(lambda: write_all(url, prepared))
    with scratch_database(server) as url:
        seed, _ = timed(lambda: seed_write_all(url, batches))

    n = len(items)
    rate = {"prep": n / prep_seconds, "a": n / first, "again": n / second, "seed": n / seed}
    print(
        f"  validate + hash (prepare)        {rate['prep']:>9,.0f} items/s"
        f"  ({1e6 / rate['prep']:.1f} µs/item)"
    )
    print(f"  (a) PageWriter, {args.page_size}/page         {rate['a']:>9,.0f} items/s  {counts}")
    print(f"  (b) seed: INSERT per movie       {rate['seed']:>9,.0f} items/s")
    print(f"      ratio (a) / (b)              {rate['a'] / rate['seed']:>9.1f} x")
    print(f"  (a) again, nothing changed       {rate['again']:>9,.0f} items/s  {again}")
    ratio = (n / (prep_seconds + first)) / rate["seed"]
    print(f"      prepare + (a) / (b)          {ratio:>9.1f} x")


if __name__ == "__main__":
    main()

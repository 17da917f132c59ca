"""Show and season items.

A show is a movie-like item whose contentId is a number in the JSON (API contract, "Movie
item"). A season belongs to one show: its `showId` is the show's numeric `id`, not its
contentId, which is what `/season/search?showId=` asks for.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from hotstar_sync.simulator.movies import IMAGE_HOST, image, make_movie

if TYPE_CHECKING:
    from hotstar_sync.simulator.content import Core

DEEPLINK = "https://www.hotstar.example/in/shows"
#: Seasons per show, and how often: most shows run one to three, a few long ones ~20.
SEASON_COUNTS = ((1, 0.55), (2, 0.2), (3, 0.1), (4, 0.04), (5, 0.03), (6, 0.03))
LONG_RUNS = (7, 20)  # the remaining 5% run this many seasons


def seasons_of_a_show(rng: random.Random) -> int:
    draw = rng.random()
    for count, share in SEASON_COUNTS:
        if draw < share:
            return count
        draw -= share
    return rng.randint(*LONG_RUNS)


def make_show(rng: random.Random, core: Core) -> dict[str, Any]:
    """A show item for `core`: a movie's fields but a show's type, links and numeric id."""
    item = make_movie(rng, core)
    slug = item["title"].lower().replace(" ", "-")
    del item["duration"]  # a show's running time is its episodes'
    item |= {
        "contentId": core.content_id,
        "contentType": "SHOW",
        "locators": [
            {"url": f"{DEEPLINK}/{slug}/{core.content_id}", "platform": platform}
            for platform in ("ANDROID", "IOS", "PCTV")
        ],
    }
    if "playUri" in item:
        item["playUri"] = f"{DEEPLINK}/{core.content_id}/play?asset=show"
    return item


def make_season(rng: random.Random, core: Core) -> dict[str, Any]:
    """A season of the show in `core.parent`; `episodeCnt` is set by whoever makes episodes."""
    assert core.parent is not None  # seasons are always made for a show
    show = core.parent
    title = show["title"] if isinstance(show["title"], str) else "Untitled"
    channel = show.get("channelObject", {}).get("id", rng.randint(1, 40))
    horizontal = image(core, "HORIZONTAL", "16x9")
    return {
        "id": core.id,
        "showId": show["id"],
        "displaySeasonNo": core.number,
        "episodeCnt": 0,
        "title": f"{title} Season {core.number}",
        "channelId": channel,
        "categoryId": 10_000 + channel,
        "contentId": str(core.content_id),
        "images": [horizontal, image(core, "VERTICAL", "2x3")],
        "thumbnail": horizontal["url"],
        "portraitThumbnail": f"{IMAGE_HOST}/sources/r1/cms/prod/{core.content_id}/vertical-2x3",
        "assetStatus": "PUBLISHED" if core.published else "UNPUBLISHED",
        "startDate": core.start_date,
        "endDate": core.end_date,
        "updateDate": core.update_date,
    }

"""Episode items: a movie's fields plus episodeNo, seasonNo, seasonId, showId, broadCastDate.

There are 686,432 of them (API contract), so an episode is cheap to make: what it shares
with its show and season (genre, languages, cast, channel) is computed once per season
(`episode_context`) and copied, and only its own fields are drawn.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from hotstar_sync.simulator.movies import (
    IMAGE_HOST,
    RATINGS,
    artwork,
    between,
    prose,
    release,
    year_of,
)

if TYPE_CHECKING:
    from hotstar_sync.simulator.content import Core

DEEPLINK = "https://www.hotstar.example/in/shows"
#: A show's fields its episodes repeat, when the show has them (optional fields stay so),
#: and the JSON type each must have to be passed on.
INHERITED: dict[str, type] = {
    "genre": list,
    "lang": list,
    "langObjs": list,
    "actors": list,
    "directors": list,
    "producers": list,
    "channelObject": dict,
}


def episode_context(show: dict[str, Any], season: dict[str, Any]) -> dict[str, Any]:
    """What every episode of `season` (of `show`) shares; `Core.parent` of its episodes.

    A malformed show passes on only the fields that have the right type, so its episodes
    are not broken by accident.
    """
    # By each field's own type: a show whose genre is broken into an object must not pass
    # that object on as its episodes' genre.
    context = {
        name: show[name] for name, kind in INHERITED.items() if isinstance(show.get(name), kind)
    }
    rating, rating_id = RATINGS[show["id"] % len(RATINGS)]
    title = show["title"] if isinstance(show["title"], str) else "Untitled"
    return context | {
        "showId": show["id"],
        "seasonId": season["id"],
        "seasonNo": season["displaySeasonNo"],
        "title": title,  # the show's: each episode's title starts with it
        "parentalRating": rating_id,
        "parentalRatingName": rating,
        "trailerDeeplinks": [],
    }


def make_episode(rng: random.Random, core: Core) -> dict[str, Any]:
    """Episode `core.number` of the season in `core.parent` (see `episode_context`)."""
    assert core.parent is not None  # episodes are always made for a season
    item = dict(core.parent)
    cid = str(core.content_id)
    art = f"{IMAGE_HOST}/sources/r1/cms/prod/{cid}"
    horizontal = {"url": f"{art}/horizontal-16x9", "transformation": "f_auto", "type": "HORIZONTAL"}
    watch = f"{DEEPLINK}/s{item['seasonNo']}e{core.number}/{cid}/watch"
    item |= {
        "id": core.id,
        "contentId": cid,
        "title": f"{item['title']} Episode {core.number}",
        "description": prose(rng, between(rng, 60, 160)),
        "contentType": "EPISODE",
        "episodeNo": core.number,
        "year": year_of(core.start_date),
        "duration": between(rng, 60 * 18, 60 * 50),
        **release(core),
        **artwork(cid, [horizontal]),
        "locators": [{"url": watch, "platform": p} for p in ("ANDROID", "IOS", "PCTV")],
        "playUri": f"{DEEPLINK}/{cid}/play?asset=episode",
    }
    return item

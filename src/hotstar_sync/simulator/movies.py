"""Movie items: every field of the contract's movie item, about 2 KB each.

Optional fields of the contract (vertical images, searchKeywords, trailers, actors, anchors,
directors, producers, channelObject, playUri) are sometimes absent, searchKeywords sometimes
repeats a keyword, and a few items carry a field the contract does not list, as real items
gained fields over the years.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotstar_sync.simulator.content import Core

_VOCABULARY = """
love river storm night city empire shadow dream golden return silent king queen journey broken
secret fire monsoon village letter promise brother sister warrior heart song road midnight ocean
train festival summer winter legend hunt garden mirror stranger wedding battle kingdom star
thunder echo truth lost found bridge desert mountain island temple market family friend rebel
hero detective
"""
_FIRST_NAMES = "Aamir Deepika Ranveer Alia Rajesh Priya Vikram Kavya Arjun Meera Rohan Isha"
_LAST_NAMES = "Sharma Khan Kapoor Iyer Reddy Nair Das Singh Menon Bose Patel Rao"
_GENRES = "Drama Action Comedy Romance Thriller Family Horror Biopic Crime Musical"
WORDS = tuple(_VOCABULARY.split())
PEOPLE = tuple(f"{a} {b}" for a in _FIRST_NAMES.split() for b in _LAST_NAMES.split())
GENRES = tuple(_GENRES.split())
#: Descriptions are cut from one long text: cheap enough for 50,000 items at start-up.
PROSE = " ".join(random.Random(0).choices(WORDS, k=20000))
LANGS = (
    (1, "Hindi", "hin"),
    (2, "Tamil", "tam"),
    (3, "Telugu", "tel"),
    (4, "Malayalam", "mal"),
    (5, "Bengali", "ben"),
    (6, "English", "eng"),
)
RATINGS = (("U", 1), ("UA", 2), ("UA13+", 3), ("A", 4))
IMAGE_HOST = "https://img.hotstar.example/image/upload"
DEEPLINK = "https://www.hotstar.example/in/movies"


def between(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)` at a fifth of the cost, for the 900,000 items' hot paths."""
    return low + int(rng.random() * (high - low + 1))


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def prose(rng: random.Random, length: int) -> str:
    start = PROSE.index(" ", rng.randrange(len(PROSE) - length - 20)) + 1
    end = PROSE.index(" ", start + length)
    return PROSE[start:end].capitalize() + "."


def _people(rng: random.Random, low: int, high: int) -> list[str]:
    return rng.choices(PEOPLE, k=rng.randint(low, high))


def image(core: Core, kind: str, ratio: str) -> dict[str, str]:
    return {
        "url": f"{IMAGE_HOST}/sources/r1/cms/prod/{core.content_id}/{kind.lower()}-{ratio}",
        "transformation": f"f_auto,q_90,w_{'1920' if kind == 'HORIZONTAL' else '480'}",
        "type": kind,
    }


def make_movie(rng: random.Random, core: Core) -> dict[str, Any]:
    """A movie item for `core`; `rng` decides everything the core does not."""
    title = words(rng, rng.randint(1, 4)).title()
    slug = title.lower().replace(" ", "-")
    cid = str(core.content_id)
    langs = rng.sample(LANGS, rng.randint(1, 3))
    rating, rating_id = rng.choice(RATINGS)
    # startDate 0 and the year 3001 are placeholders, not release dates.
    special = core.start_date in (0, 32535072000)
    year = 1950 + rng.randrange(76) if special else year_of(core.start_date)
    images = [image(core, "HORIZONTAL", "16x9"), image(core, "SQUARE", "1x1")]
    item: dict[str, Any] = {
        "id": core.id,
        "contentId": cid,
        "title": title,
        "description": prose(rng, rng.randint(120, 260)),
        "contentType": "MOVIE",
        "year": year,
        "duration": rng.randint(60 * 70, 60 * 190),
        "genre": rng.sample(GENRES, rng.randint(1, 3)),
        "lang": [name for _, name, _ in langs],
        "langObjs": [
            {"id": i, "name": name, "iso3code": iso, "displayName": name, "hide": False}
            for i, name, iso in langs
        ],
        **release(core),
        **artwork(cid, images),
        "locators": [
            {"url": f"{DEEPLINK}/{slug}/{cid}/watch", "platform": platform}
            for platform in ("ANDROID", "IOS", "PCTV")
        ],
        "trailerDeeplinks": [],
        "parentalRating": rating_id,
        "parentalRatingName": rating,
    }
    _add_optional(rng, core, item, title)
    return item


def release(core: Core) -> dict[str, Any]:
    """What a playable item takes from its core alone: pay flags, status and dates."""
    return {
        "premium": core.premium,
        "vip": core.premium,
        "paid": core.premium,
        "assetStatus": "PUBLISHED" if core.published else "UNPUBLISHED",
        "startDate": core.start_date,
        "endDate": core.end_date,
        "broadCastDate": core.start_date,
        "updateDate": core.update_date,
    }


def artwork(cid: str, images: list[dict[str, str]]) -> dict[str, Any]:
    """A playable item's pictures (the first is its thumbnail) and app deep links."""
    return {
        "thumbnail": images[0]["url"],
        "portraitThumbnail": f"{IMAGE_HOST}/sources/r1/cms/prod/{cid}/vertical-2x3",
        "images": images,
        "sourceImages": [{"url": i["url"], "type": i["type"]} for i in images],
        "deepLinkUrl": f"hotstar://{cid}",
        "deepLinkUrlForLivingRoom": f"hotstar://content/{cid}/watch",
    }


def year_of(start_date: int) -> int:
    # 365.2425 days a year from 1970: right to the year for every startDate we make.
    return 1970 + int(start_date // 31556952)


def _add_optional(rng: random.Random, core: Core, item: dict[str, Any], title: str) -> None:
    cid = item["contentId"]
    if rng.random() < 0.7:
        item["verticalImages"] = [image(core, "VERTICAL", "2x3")]
    if rng.random() < 0.8:
        keywords = title.lower().split() + words(rng, 3).split()
        if rng.random() < 0.2:  # real responses repeat keywords
            keywords.append(keywords[0])
        item["searchKeywords"] = keywords
    if rng.random() < 0.5:
        item["trailers"] = [{"contentId": str(core.content_id + 1), "title": f"{title} Trailer"}]
        item["trailerDeeplinks"] = [f"hotstar://{core.content_id + 1}"]
    for name, low, high, share in (
        ("actors", 2, 8, 0.85),
        ("directors", 1, 2, 0.8),
        ("producers", 1, 3, 0.6),
        ("anchors", 1, 1, 0.05),
    ):
        if rng.random() < share:
            item[name] = _people(rng, low, high)
    if rng.random() < 0.6:
        channel = rng.randint(1, 40)
        item["channelObject"] = {
            "id": channel,
            "name": f"Channel {channel}",
            "contentId": str(1_100_000_000 + channel),
        }
    if rng.random() < 0.9:
        item["playUri"] = f"{DEEPLINK}/{cid}/play?asset=movie"
    if rng.random() < 0.03:  # a field added to the API after the guide was written
        item["badges"] = [{"type": "NEW", "label": "New"}]

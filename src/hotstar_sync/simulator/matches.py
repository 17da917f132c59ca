"""Match items: sports VoD and live clips, a movie's fields plus sportsSeasonId,
tournamentId, siMatchId, gameName and live.

There are 175,031 of them (API contract), so a match draws only its own fields; what a
tournament's matches share is made once, at import, from a fixed seed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from hotstar_sync.simulator.movies import (
    IMAGE_HOST,
    LANGS,
    artwork,
    between,
    prose,
    release,
    year_of,
)

if TYPE_CHECKING:
    from hotstar_sync.simulator.content import Core

DEEPLINK = "https://www.hotstar.example/in/sports"
LIVE = 0.08  # share of live clips among matches
GAMES = {
    "Cricket": "India Australia England Pakistan Chennai Mumbai Kolkata Delhi Punjab Rajasthan",
    "Football": "Bengaluru Goa Kerala Mohun Bagan Odisha Hyderabad Jamshedpur Chennaiyin",
    "Kabaddi": "Patna Jaipur Bengal Puneri Telugu Tamil Haryana Gujarat UP Dabang",
    "Tennis": "Djokovic Alcaraz Sinner Medvedev Zverev Rune Fritz Ruud",
    "Badminton": "Sindhu Prannoy Sen Srikanth Axelsen Momota Yamaguchi Marin",
}


def _tournaments() -> list[dict[str, Any]]:
    rng = random.Random(0)
    tournaments = []
    for number in range(1, 121):
        game = rng.choice(sorted(GAMES))
        langs = rng.sample(LANGS, between(rng, 1, 3))
        tournaments.append(
            {
                "tournamentId": 5_000 + number,
                "sportsSeasonId": 9_000 + number,
                "gameName": game,
                "teams": GAMES[game].split(),
                "name": f"{game} Championship {number}",
                "genre": [game, "Sports"],
                "lang": [name for _, name, _ in langs],
                "langObjs": [
                    {"id": i, "name": name, "iso3code": iso, "displayName": name, "hide": False}
                    for i, name, iso in langs
                ],
            }
        )
    return tournaments


TOURNAMENTS = _tournaments()


def make_match(rng: random.Random, core: Core) -> dict[str, Any]:
    """A match of a tournament chosen by `rng`."""
    tournament = rng.choice(TOURNAMENTS)
    home, away = rng.sample(tournament["teams"], 2)
    cid = str(core.content_id)
    art = f"{IMAGE_HOST}/sources/r1/cms/prod/{cid}"
    horizontal = {"url": f"{art}/horizontal-16x9", "transformation": "f_auto", "type": "HORIZONTAL"}
    live = rng.random() < LIVE
    return {
        "id": core.id,
        "contentId": cid,
        "title": f"{home} vs {away}, {tournament['name']}",
        "description": prose(rng, between(rng, 60, 160)),
        "contentType": "MATCH",
        "year": year_of(core.start_date),
        "duration": between(rng, 60 * 3, 60 * 240),
        "genre": tournament["genre"],
        "lang": tournament["lang"],
        "langObjs": tournament["langObjs"],
        **release(core),
        **artwork(cid, [horizontal]),
        "locators": [
            {"url": f"{DEEPLINK}/{cid}/watch", "platform": p} for p in ("ANDROID", "IOS", "PCTV")
        ],
        "trailerDeeplinks": [],
        "parentalRating": 1,
        "parentalRatingName": "U",
        "sportsSeasonId": tournament["sportsSeasonId"],
        "tournamentId": tournament["tournamentId"],
        "siMatchId": 700_000 + core.seq,
        "gameName": tournament["gameName"],
        "live": live,
    }

"""Channel items: id, contentId, name, enabledPlatforms (API contract), plus the dates and
status every type carries, and `esUpdateDate`: when the item's last change reached the
search index, in epoch milliseconds, which `/channel/list` orders and filters by.

Channel n has id n and contentId 1100000000 + n, the channel the movies' channelObjects name.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotstar_sync.simulator.content import Core

PLATFORMS = ("ANDROID", "IOS", "PCTV", "WEB", "FIRETV", "JIOSTB")


def make_channel(rng: random.Random, core: Core) -> dict[str, Any]:
    return {
        "id": core.id,
        "contentId": str(core.content_id),
        "name": f"Channel {core.id}",
        "enabledPlatforms": sorted(rng.sample(PLATFORMS, rng.randint(2, len(PLATFORMS)))),
        "assetStatus": "PUBLISHED" if core.published else "UNPUBLISHED",
        "startDate": core.start_date,
        "endDate": core.end_date,
        "updateDate": core.update_date,
        # Indexed within a second of the change.
        "esUpdateDate": core.update_date * 1000 + rng.randrange(1000),
    }

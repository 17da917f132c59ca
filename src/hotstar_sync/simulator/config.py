"""The simulator's settings: the catalogue it makes, the contract's open questions, its faults.

Every field is also an option of `hotstar-sync simulate` (underscores become dashes), and
`SimulatorConfig.to_args()` writes those options back out, so a simulator started in a
process of its own is the one the caller described.
"""

from __future__ import annotations

import binascii
import dataclasses
import time
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

from hotstar_sync.config import DEMO_AKAMAI_SECRET, DEMO_PARTNER_ID, load_settings
from hotstar_sync.errors import ConfigError

#: How `from*`/`to*` filters treat their bounds. The guide does not say (API contract,
#: "Query parameters"), so a client must be right under each.
Bounds = Literal["inclusive", "half-open", "exclusive"]
BOUNDS: tuple[str, ...] = get_args(Bounds)
#: Content type -> the setting holding its catalogue size (seasons follow from shows).
SIZES = {
    "movie": "movies",
    "show": "shows",
    "episode": "episodes",
    "match": "matches",
    "channel": "channels",
}


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Fault rates; each is a probability per search request, 0 = never."""

    error_rate: float = 0.0  # answer HTTP 5xx
    slow_rate: float = 0.0  # answer only after `slow_seconds`
    slow_seconds: float = 6.0  # over the guide's 5 s, so a slow answer trips the breaker
    drop_rate: float = 0.0  # close the connection in the middle of the body
    churn_rate: float = 0.0  # add and silently remove `churn_items` items first
    churn_items: int = 5

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "drop_rate", "churn_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1")
        if self.slow_seconds < 0 or self.churn_items < 0:
            raise ConfigError("slow_seconds and churn_items must not be negative")


#: How an index files a filter value of the wrong type (see `simulator.quirks`).
Reading = Literal["zero", "date", "excluded"]
READINGS: tuple[str, ...] = get_args(Reading)


@dataclass(frozen=True, slots=True)
class QuirkSettings:
    """Odd items of each type, counts (see `simulator.quirks`); 0 = none."""

    odd_start_dates: int = 0
    odd_update_dates: int = 0
    odd_premium: int = 0
    odd_reading: Reading = "zero"
    keyless: int = 0
    duplicate_keys: int = 0
    unparseable: int = 0
    non_objects: int = 0

    def __post_init__(self) -> None:
        if self.odd_reading not in READINGS:
            raise ConfigError(f"odd_reading must be one of {', '.join(READINGS)}")
        for name in self.counts():
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")

    @classmethod
    def counts(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "odd_reading"]

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in self.counts())


def _today() -> int:
    # Midnight UTC: the catalogue for a seed is the same all day long.
    now = int(time.time())
    return now - now % 86400


def _partner_id() -> str:
    return load_settings().partner_id or DEMO_PARTNER_ID


def _secret_hex() -> str:
    settings = load_settings()
    if settings.akamai_secret is None and settings.akamai_secret_file is None:
        return DEMO_AKAMAI_SECRET
    return settings.resolved_secret().hex()


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    movies: int = 51495  # the pre-production counts, January 2026 (API contract)
    shows: int = 6111  # seasons follow from the shows: 1 to 20 each, 2.4 on average
    episodes: int = 686432
    matches: int = 175031
    channels: int = 40
    #: Make every type's items at start. Otherwise (the default) a type is made when first
    #: searched or asked about, so a movies-only test never pays for 686k episodes.
    eager: bool = False
    seed: int = 0
    rate_limit: float = 1.0  # requests per second per partner, burst 1; 0 = no limit
    bounds: Bounds = "inclusive"
    cluster_size: int = 3000  # items sharing one startDate second (a bulk import)
    #: Further bulk imports of movies, each this many items at a second of its own.
    more_clusters: tuple[int, ...] = ()
    #: How many updateDate seconds each cluster's items share (0: each its own, as drawn).
    cluster_update_seconds: int = 0
    index_lag_seconds: float = 0.0  # a change shows in search results this much later
    #: ... and each change of a day up to this much later again, at a random moment of its
    #: own: an index that makes a day's changes visible one by one, while a sync reads.
    index_lag_spread_seconds: float = 0.0
    #: A show's change brings its seasons' (new, updated, removed), indexed this much later
    #: again: a season can turn up after its show's change was polled.
    season_lag_seconds: float = 0.0
    malformed: int = 5  # items that break the contract for good (null title, wrong types)
    duplicate_ids: int = 0  # pairs of items sharing a numeric `id` (distinct contentIds)
    faults: FaultSettings = FaultSettings()
    quirks: QuirkSettings = QuirkSettings()
    fault_seed: int | None = None  # None: the seed
    #: Base of the catalogue's dates: past endDates lie before it, near ones after it.
    reference_time: int = field(default_factory=_today)
    partner_id: str = field(default_factory=_partner_id)
    secret_hex: str = field(default_factory=_secret_hex, repr=False)

    def __post_init__(self) -> None:
        if self.bounds not in BOUNDS:
            raise ConfigError(f"bounds must be one of {', '.join(BOUNDS)}")
        for name in (
            *SIZES.values(),
            "cluster_size",
            "cluster_update_seconds",
            "malformed",
            "duplicate_ids",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if any(size < 0 for size in self.more_clusters):
            raise ConfigError("more_clusters must not be negative")
        if self.episodes and not self.shows:
            raise ConfigError("episodes need shows to belong to: set shows above 0")
        for name in (
            "rate_limit",
            "index_lag_seconds",
            "index_lag_spread_seconds",
            "season_lag_seconds",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        try:
            binascii.unhexlify(self.secret_hex)
        except (binascii.Error, ValueError):
            raise ConfigError("the partner secret must be a hex string") from None

    @property
    def secret(self) -> bytes:
        return binascii.unhexlify(self.secret_hex)

    @property
    def effective_fault_seed(self) -> int:
        return self.seed if self.fault_seed is None else self.fault_seed

    def to_args(self) -> list[str]:
        """The `hotstar-sync simulate` options that make this configuration.

        The credentials are left out (they belong in the environment, not on a command line).
        """
        values = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("faults", "quirks", "partner_id", "secret_hex")
        }
        values |= dataclasses.asdict(self.faults) | dataclasses.asdict(self.quirks)
        args: list[str] = []
        for name, value in values.items():
            if value is True:  # a flag
                args.append("--" + name)
            elif isinstance(value, tuple):  # sizes: 2000,9000
                args += ["--" + name.replace("_", "-"), ",".join(map(str, value))]
            elif value is not None and value is not False:
                args += ["--" + name.replace("_", "-"), str(value)]
        return args

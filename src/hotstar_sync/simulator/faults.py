"""Faults: random ones at configured rates, and a queue of forced ones for exact tests.

Like dlt's dummy destination, faults are settings: given at start (`SimulatorConfig.faults`)
and changed at run time (`Faults.set`, or `POST /_sim/faults`). The random draws come from
one seeded generator, so a run with the same requests meets the same faults.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import deque
from typing import Any, Literal, get_args

from hotstar_sync.errors import ConfigError
from hotstar_sync.simulator.config import FaultSettings

#: error: HTTP 503 · slow: the answer comes after `slow_seconds` · drop: the connection
#: closes in the middle of the body · rate_limit: HTTP 429 · forbidden: HTTP 403 as if the
#: edge refused this machine · items_null, items_object: a 200 whose `items` is null or {}
#: · absurd_total: a 200 whose totalResults is 10^12 · echo_plain, echo_percent, echo_json: a
#: gateway's HTTP 400 whose body echoes the request's token, as sent, percent-encoded or
#: JSON-escaped · gzip_bomb: a 200 of ~5 MB gzip that inflates to 1 GiB.
FaultKind = Literal[
    "error",
    "slow",
    "drop",
    "rate_limit",
    "forbidden",
    "items_null",
    "items_object",
    "absurd_total",
    "echo_plain",
    "echo_percent",
    "echo_json",
    "gzip_bomb",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


class Faults:
    """The fault settings in force and the faults forced on the next requests."""

    def __init__(self, settings: FaultSettings, seed: int) -> None:
        self._settings = settings
        self._rng = random.Random(seed)
        self._forced: deque[FaultKind] = deque()
        self._lock = threading.Lock()

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def set(self, **changes: Any) -> FaultSettings:
        """Change some settings (names of `FaultSettings`); the others stay."""
        names = {f.name for f in dataclasses.fields(FaultSettings)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown fault setting: {', '.join(unknown)}")
        try:
            settings = dataclasses.replace(self._settings, **changes)
        except TypeError as exc:  # a value of the wrong type
            raise ConfigError(f"bad fault setting: {exc}") from None
        with self._lock:
            self._settings = settings
        return settings

    def fail_next(self, count: int, kind: FaultKind = "error") -> None:
        """Make the next `count` search requests that pass the contract's checks fail."""
        if kind not in FAULT_KINDS:
            raise ConfigError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if count < 0:
            raise ConfigError("count must not be negative")
        with self._lock:
            self._forced.extend([kind] * count)

    @property
    def forced(self) -> int:
        """How many forced faults are still waiting."""
        return len(self._forced)

    def clear(self) -> None:
        """Forget the forced faults and set every rate to 0."""
        with self._lock:
            self._forced.clear()
            self._settings = dataclasses.replace(
                self._settings, error_rate=0.0, slow_rate=0.0, drop_rate=0.0, churn_rate=0.0
            )

    def draw(self) -> FaultKind | None:
        """The fault for this request: a forced one first, else one drawn at the rates."""
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            s = self._settings
            rates: tuple[tuple[FaultKind, float], ...] = (
                ("error", s.error_rate),
                ("drop", s.drop_rate),
                ("slow", s.slow_rate),
            )
            for kind, rate in rates:
                if rate and self._rng.random() < rate:
                    return kind
            return None

    def churn_due(self) -> bool:
        """Whether this request should first see items added and removed."""
        with self._lock:
            rate = self._settings.churn_rate
            return bool(rate) and self._rng.random() < rate

"""A local partner catalog API with the real one's contract, for tests, the demo and benchmarks.

It imports nothing of the mirror's. The public surface::

    from hotstar_sync.simulator import SimulatorConfig, FaultSettings, serve_in_thread

    config = SimulatorConfig(movies=3000, shows=40, episodes=2000, matches=500, channels=10,
                             seed=7, rate_limit=0.0, bounds="half-open",
                             cluster_size=300, index_lag_seconds=0.0,
                             faults=FaultSettings(error_rate=0.05))
    with serve_in_thread(config) as sim:       # a free loopback port
        sim.base_url                           # "http://127.0.0.1:<port>"
        day = sim.catalog.apply_day(adds=10, back_catalogue_adds=5, updates=20,
                                    unpublish=3, republish=2, removals=4, malformed=1)
        day.added, day.removed, ...            # the contentIds each change touched
        sim.catalog.apply_day(updates=2, content_type="show").related["season"]
        truth = sim.catalog.truth()            # what the API returns now (movies)
        sim.catalog.truth("season")            # show, season, episode, match, channel
        truth.items["1000000030"].item         # raw item; .status, .end_date, .malformed
        truth.removed, truth.pending, truth.id_clashes
        sim.faults.fail_next(2, "drop")        # error | slow | drop | rate_limit | forbidden
        sim.faults.set(slow_rate=0.5, slow_seconds=1.5)

    with serve_in_process(config) as proc:     # `hotstar-sync simulate` in a child process
        proc.base_url                          # admin paths over HTTP: /_sim/day, /_sim/truth

Types other than movies are made at their first use unless `eager=True`. See
docs/simulator.md for the endpoints, the admin paths and every setting.
"""

from hotstar_sync.simulator.catalog import Catalog, DayResult, Truth, TruthItem
from hotstar_sync.simulator.config import Bounds, FaultSettings, SimulatorConfig
from hotstar_sync.simulator.faults import FaultKind, Faults
from hotstar_sync.simulator.runner import (
    RunningSimulator,
    SimulatorProcess,
    serve_forever,
    serve_in_process,
    serve_in_thread,
)
from hotstar_sync.simulator.server import Simulator

__all__ = [
    "Bounds",
    "Catalog",
    "DayResult",
    "FaultKind",
    "FaultSettings",
    "Faults",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "SimulatorProcess",
    "Truth",
    "TruthItem",
    "serve_forever",
    "serve_in_process",
    "serve_in_thread",
]

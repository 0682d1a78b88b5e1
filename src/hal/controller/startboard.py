"""Start forecasts for `hal queue --start`: how often they are recomputed and where (a clone, outside the lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster, StartEstimate


class StartBoard:
    """Forecasts of every pending job's start, at most once per scheduling cycle.

    The scheduler is cloned under the controller's lock (cheap: no history) and forecast outside it, so a
    slow forecast never holds up submissions or launches. The forecaster learns the predictor's errors
    from job ends and calibrates its p90 from how earlier forecasts fared.
    """

    def __init__(self, members: int = 10) -> None:
        self.forecaster = Forecaster(members=members)
        self._cache: tuple[tuple[int, int], dict[int, StartEstimate]] = ((-1, -1), {})

    def estimates(
        self, sched: Scheduler, lock: threading.RLock, cycles: int, clock: Callable[[], float]
    ) -> dict[int, StartEstimate]:
        with lock:
            key = (cycles, sched.epoch)
            if self._cache[0] == key:
                return self._cache[1]
            snap, now = sched.clone(history=False), clock()  # never given submissions
            forecaster = self.forecaster.fork()
        self._cache = (key, forecaster.starts(snap, now))
        return self._cache[1]

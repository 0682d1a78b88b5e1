"""Start forecasts for `hal queue --start`: how often they are recomputed and where (a clone, outside the lock)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster, StartEstimate

log = logging.getLogger("hal.controller")
STATE_FILE = "start-forecasts.json"


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

    def save(self, path: Path) -> None:
        """Keep what the forecaster learned across a restart (else p90s narrow to the bare upper plan)."""
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.forecaster.state()), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("start forecasts' errors not saved to %s: %s", path, exc)

    def load(self, path: Path) -> int:
        """Take back a saved state; a damaged file is set aside and learning starts over. Returns errors known."""
        if not path.exists():
            return 0
        try:
            self.forecaster.restore(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s unusable (%s); start forecasts learn their errors again", path, exc)
            return 0
        return len(self.forecaster.ratios)

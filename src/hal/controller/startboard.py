"""Start forecasts for `hal queue --start`: how often they are recomputed and where (a clone, outside the lock)."""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from hal.engine.api import Estimate
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.forecast import Forecaster, StartEstimate
from hal.model.job import Dependency, DependencyKind, JobSpec

log = logging.getLogger("hal.controller")
STATE_FILE = "start-forecasts.json"
MIN_AGE = 2.0  # seconds a forecast of an unchanged-enough queue is reused


class StartBoard:
    """Forecasts of every pending job's start, at most once per scheduling cycle.

    The scheduler is cloned under the controller's lock (cheap: no history) and forecast outside it, so a
    slow forecast never holds up submissions or launches. The forecaster learns the predictor's errors
    from job ends and calibrates its p90 from how earlier forecasts fared.
    """

    def __init__(self, members: int = 10) -> None:
        self.forecaster = Forecaster(members=members)
        self._cache: tuple[tuple[int, int, int], dict[int, StartEstimate]] = ((-1, -1, -1), {})
        self._made = -math.inf  # monotonic time of the cached forecasts
        self._cost = 0.0  # seconds the last forecast took
        self._busy = threading.Lock()  # one forecast at a time: concurrent listings share it
        self._covered: set[int] = set()  # the jobs pending when the cached forecasts were made

    def estimates(self, ctl: Any, wanted: set[int] | None = None) -> dict[int, StartEstimate]:
        """``ctl``: the controller (its scheduler, lock, cycle count, clock, and array gates). The forecasts are
        reused while they cover the ``wanted`` jobs and are younger than 4x what they cost to make (at least
        MIN_AGE): with thousands of pending jobs a forecast takes seconds, and every listing made one. While one
        is being made, other callers get the last ones (or wait for it if there are none)."""
        if self._usable(ctl, wanted):
            return self._cache[1]
        if not self._busy.acquire(blocking=self._made == -math.inf):
            return self._cache[1]
        try:
            if self._usable(ctl, wanted):  # made by the caller we waited for
                return self._cache[1]
            with ctl.lock:
                key = (ctl.cycles, ctl.sched.epoch, len(ctl.gated))
                snap, now = ctl.sched.clone(history=False), ctl.clock()  # never given submissions
                covered = {j for j, lv in ctl.live.items() if lv.state == "PENDING"}  # held ones get none
                behind_limits(snap, ctl, now)
                forecaster = self.forecaster.fork()
            t0 = time.monotonic()
            try:
                self._cache = (key, forecaster.starts(snap, now))
            except Exception:  # forecasts are advice: a fault in them must never take the job listings down
                log.exception("start forecasts failed; jobs are listed without them")
                self._cache = (key, {})
            self._made, self._covered = time.monotonic(), covered
            self._cost = self._made - t0
        finally:
            self._busy.release()
        return self._cache[1]

    def _usable(self, ctl: Any, wanted: set[int] | None) -> bool:
        if self._made == -math.inf:
            return False
        with ctl.lock:
            key = (ctl.cycles, ctl.sched.epoch, len(ctl.gated))
            live = {j for j in wanted or () if j in ctl.live and ctl.live[j].state == "PENDING"}
        if self._cache[0] == key:
            return True
        young = time.monotonic() - self._made < max(MIN_AGE, 4.0 * self._cost)
        return young and live <= self._covered

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


def behind_limits(snap: Scheduler, ctl: Any, now: float) -> None:
    """Put the array tasks a ``%limit`` keeps out of the engine into a forecast's clone, so the jobs queued
    behind them are not forecast too early and they get forecasts themselves. The limit is modelled as lanes:
    the k-th waiting task runs after the task ``limit`` places ahead of it in the array ends (``afterany``),
    planned like its siblings in the engine. Jobs that depend on such tasks follow, planned on their requests."""
    behind = {a: g for a, g in ctl.gates.items() if g.waiting}
    members: dict[int, list[int]] = {a: [] for a in behind}  # each such array's tasks in the engine, one pass
    for j, lv in ctl.live.items():
        if lv.array_job_id in members and j not in ctl.gated and j in snap.known:
            members[lv.array_job_id].append(j)
    for array_id, gate in behind.items():
        inflight = sorted(members[array_id])
        if not inflight:
            continue
        first = inflight[0]
        like = snap.running[first].item if first in snap.running else snap.held.get(first)
        like = like or snap.queue.get(first)
        if like is None:
            continue
        lanes = inflight[-gate.limit :]
        waiting = [ctl.live[j].spec for j in gate.waiting]
        for i, spec in enumerate(w for w in waiting if not w.held):  # a held task takes no slot, and no lane
            before = lanes[i % len(lanes)]
            lanes[i % len(lanes)] = spec.job_id
            deps = (*spec.dependencies, Dependency(DependencyKind.AFTERANY, before))
            _submit(snap, replace(spec, dependencies=deps), now, Estimate(like.estimate, like.upper))
        for spec in (w for w in waiting if w.held):  # in the clone too, held: no forecast, none behind it delayed
            _submit(snap, spec, now, Estimate(like.estimate, like.upper))
    for job_id in sorted(ctl.deferred):  # jobs waiting on those tasks, planned on their requests (never predicted)
        spec = ctl.live[job_id].spec
        limit = spec.time_limit or 3600.0
        _submit(snap, spec, now, Estimate(limit, limit))


def _submit(snap: Scheduler, spec: JobSpec, now: float, estimate: Estimate) -> None:
    with suppress(Rejected):  # e.g. a dependency the clone does not know: no forecast for it, nothing else
        snap.submit(spec, now, estimate)

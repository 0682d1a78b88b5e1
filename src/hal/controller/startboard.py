"""Start forecasts for `hal queue --start`: made by a thread of their own, on a clone taken under the
controller's lock, and served at once to listings (the last ones made, as Slurm's squeue --start shows what
its backfill planner last computed)."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from hal.controller.cache_forecast import wait_for_room
from hal.controller.forecast_gates import behind_limits
from hal.controller.private import write_private
from hal.engine.forecast import Forecaster, StartEstimate
from hal.engine.forward import Halted

log = logging.getLogger("hal.controller")
STATE_FILE = "start-forecasts.json"
MIN_AGE = 2.0  # seconds the forecast thread leaves forecasts of an unchanged-enough queue alone
WAIT = 2.0  # seconds a listing waits for forecasts that cover its jobs before it answers without them
WORK = 3.0e6  # work units one forecast may spend: ~2 s here (hal/engine/forecast.py, Forecaster: "Cost")
MIN_SCORES = 30  # until this many forecasts were scored, p90s are the plan on requests (Forecaster)
PAUSE = 1.0  # after a forecast of c seconds, the next one starts c x PAUSE later at the earliest
IDLE = 60.0  # seconds forecasts are kept fresh after the last listing that asked for them
POLL = 0.5  # seconds between the forecast thread's looks at the controller while it keeps them fresh
JOIN = 1.0  # seconds ``stop`` waits for the forecast in flight to notice
SAVE_EVERY = 60.0  # seconds between saves of what the forecaster learned, while it learns (``keep``)


Key = tuple[int, int, int, frozenset[str]]  # what the forecasts were made of (``_key``)
NONE: Key = (-1, -1, -1, frozenset())


def _key(ctl: Any) -> Key:
    """The controller's cycle count, scheduler epoch, gated jobs and drained nodes (under its lock): forecasts of
    a changed queue may be reused while young (``_check``), of another set of usable nodes never."""
    return ctl.cycles, ctl.sched.epoch, len(ctl.gated), frozenset(getattr(ctl, "drained", None) or ())


class StartBoard:
    """Forecasts of every pending job's start, made off the request path.

    A daemon thread, started by the first listing that asks, makes them: it clones the scheduler under the
    controller's lock (cheap: no history) and forecasts outside it, so a slow forecast never holds up
    submissions, launches or listings. A listing gets the last forecasts at once when they cover its jobs;
    otherwise it asks for new ones and waits for them at most ``WAIT`` seconds, then answers with what there
    is (jobs not covered get none: the API falls back on the planner's reservation, or N/A). While listings
    keep asking (within ``IDLE`` seconds), the thread remakes the forecasts as the queue changes, no sooner
    than the old rule for reusing them allows (younger than 4x their cost, at least ``MIN_AGE``), and never
    more than half of the time (``PAUSE``). A forecast's cost is bounded by ``WORK`` (fewer ensemble members,
    then a horizon: see Forecaster). The plan on requests, the p90's calibration anchor, always runs and takes a
    quarter of ``WORK``: on large queues that costs one ensemble member and an earlier cut; past its cut a p90
    is bounded by the cut instead (coarser, never lost). ``stop`` halts a forecast in flight within one cycle
    of its forward run.
    The forecaster learns the predictor's errors from job ends and calibrates its p90 from how earlier
    forecasts fared; until ``MIN_SCORES`` forecasts were scored, p90s are the plan on requests.
    """

    def __init__(self, members: int = 10) -> None:
        self.forecaster = Forecaster(members=members, work=WORK, floor_until=MIN_SCORES)
        self._cache: tuple[Key, dict[int, StartEstimate]] = (NONE, {})
        self._made = -math.inf  # monotonic time of the cached forecasts
        self._cost = 0.0  # seconds the last forecast took
        self._covered: set[int] = set()  # the jobs pending when the cached forecasts were made
        self.reach = math.inf  # the cached forecasts' horizon (clock time): runs cut to WORK after it
        self.unknown: dict[int, str] = {}  # why the cached forecasts give a CacheWait job no start (API, explain)
        self._cond = threading.Condition()  # guards what follows; listings wait on it for new forecasts
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._asked = -math.inf  # monotonic time of the last listing that asked
        self._kicks = 0  # the snapshot number a listing waits for (a snapshot taken after it asked)
        self._taken = 0  # snapshots taken: the forecast in flight, or the last one, is number ``_taken``
        self._done = 0  # the snapshot number of the cached forecasts
        self._ended = -math.inf  # monotonic time the last forecast ended
        self._flying: set[int] = set()  # the jobs pending when the forecast in flight was begun
        self._saving = threading.Lock()  # one save at a time (``keep``'s thread, the server's at stop)
        self._keeper: threading.Thread | None = None

    def estimates(self, ctl: Any, wanted: set[int] | None = None) -> dict[int, StartEstimate]:
        """``ctl``: the controller (its scheduler, lock, cycle count, clock, and array gates). The forecasts are
        reused while they cover the ``wanted`` jobs and are younger than 4x what they cost to make: with
        thousands of pending jobs a forecast takes seconds (a cheap one is remade once the queue changed).
        Otherwise new ones are asked for and awaited at most WAIT seconds (not at all when stale ones cover
        the jobs and the last one took longer)."""
        if self._halt.is_set():
            return self._cache[1]
        self._asked = time.monotonic()
        usable, covers, cached, live = self._check(ctl, wanted)
        if usable:
            return cached
        with self._cond:
            flying = self._taken > self._done and live <= self._flying  # the one in flight will do
            need = self._taken if flying else self._taken + 1
            self._kicks = max(self._kicks, need)
            self._start(ctl)
            self._cond.notify_all()
            if covers and self._cost > WAIT:  # a new forecast would come too late: the latest, at once
                return self._cache[1]
            self._cond.wait_for(lambda: self._done >= need or self._halt.is_set(), WAIT)
            return self._cache[1]

    def ended(self, predictor: Any, act: Any, when: float, learn: bool) -> None:
        """A run ended (its engine record ``act``): the forecaster learns its runtime error only from runs the
        predictor learns (``learn``: the caller's hal/controller/censored.py verdict, also given to
        Scheduler.finish; a cancelled, requeued or node-failed run, or one cut at a --time-min limit, says only
        that the job needed longer), and only when the prediction did not rest on the request alone
        (``on_request``: no run of the user learned before the job was submitted, with or without a model).
        Such errors are not the predictor's: a first 20 s run predicted at its 30-minute limit gave 0.011, and
        every later draw shrank by it (QA: 16 p50s within 5 s of each other, and a second wave 20 s later)."""
        if not learn:
            return
        on_request = getattr(predictor, "on_request", None)
        if on_request is not None and on_request(act.item.spec):
            return
        spec = act.item.spec
        asked = spec.asked_limit if spec.asked_limit is not None and spec.requested is not None else spec.requested
        self.forecaster.observe(act.item.estimate, when - act.start, spec.user, asked)

    def computing(self) -> bool:
        """Whether new forecasts are being made (or were asked for): jobs the last ones miss get theirs soon."""
        with self._cond:
            return max(self._kicks, self._taken) > self._done and not self._halt.is_set()

    def uncovered(self, wanted: set[int], got: dict[int, StartEstimate]) -> set[int]:
        """The ``wanted`` jobs ``got`` (what ``estimates`` answered) has no forecast for that will have one soon:
        jobs the last forecasts did not cover while new ones are made, or jobs forecasts made since cover. Listings
        flag them, so "still being computed" is told apart from "no forecast" (a held job, one past a cut horizon)."""
        with self._cond:
            if self._halt.is_set():
                return set()
            if self._cache[1] is not got:  # newer forecasts came after the listing's answer
                return {j for j in wanted if j not in got and j in self._cache[1]}
            if max(self._kicks, self._taken) <= self._done:
                return set()
            return {j for j in wanted if j not in got and j not in self._covered}

    def stop(self, wait: float = JOIN) -> None:
        """Halt the forecast in flight (within a cycle of its forward run) and the thread, for good; listings get
        the last forecasts at once from then on. Waits ``wait`` seconds at most for the thread to end."""
        self._halt.set()
        with self._cond:
            self._cond.notify_all()
            thread = self._thread
        if wait > 0 and thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def _start(self, ctl: Any) -> None:
        """(Under ``_cond``.) The forecast thread, if it is not running (it ends after IDLE without listings)."""
        if self._thread is None and not self._halt.is_set():
            self._thread = threading.Thread(target=self._loop, args=(ctl,), name="hal-forecasts", daemon=True)
            self._thread.start()

    def _loop(self, ctl: Any) -> None:
        while not self._halt.is_set():
            with self._cond:
                self._cond.wait_for(lambda: self._kicks > self._taken or self._halt.is_set(), POLL)
                kicked = self._kicks > self._taken
                if not kicked and time.monotonic() - self._asked > IDLE:
                    self._thread = None  # nobody asks: no forecasts until someone does (``_start``)
                    return
            if self._halt.is_set():
                break
            if not kicked and self._check(ctl, None)[0]:
                continue
            pause = self._ended + PAUSE * self._cost - time.monotonic()
            if pause > 0 and self._halt.wait(pause):
                break
            try:
                self._forecast(ctl)
            except Halted:
                break
            except Exception:  # forecasts are advice: a fault in them must never take the job listings down
                log.exception("start forecasts failed; jobs are listed without them")
                with self._cond:
                    self._cache, self._made, self._done = (NONE, {}), time.monotonic(), self._taken
                    self._ended, self.unknown = self._made, {}
                    self._cond.notify_all()
        with self._cond:
            self._thread = None
            self._cond.notify_all()

    def _forecast(self, ctl: Any) -> None:
        with self._cond:
            self._taken += 1  # before the snapshot: it is newer than every listing that saw the old count
            number = self._taken
        with ctl.lock:
            key = _key(ctl)
            snap, now = ctl.sched.clone(history=False), ctl.clock()  # never given submissions
            covered = {j for j, lv in ctl.live.items() if lv.state == "PENDING"}  # held ones get none
            behind_limits(snap, ctl, now)
            blind = wait_for_room(snap, ctl, now)  # CacheWait: after the jobs whose ends free room, or unknown
            forecaster = self.forecaster.fork()
        with self._cond:
            self._flying = covered
        forecaster.halt = self._halt
        t0 = time.monotonic()
        told = {j for j in blind if j in forecaster.told}
        got = forecaster.starts(snap, now)
        for j in blind:  # N/A, and no first forecast kept to score (it was never shown)
            got[j] = StartEstimate(j, math.inf, math.inf)
            if j not in told:
                forecaster.told.pop(j, None)
        was = self.reach
        with self._cond:
            self._cache, self._covered, self.reach = (key, got), covered, forecaster.reach
            self.unknown = blind
            self._made = self._ended = time.monotonic()
            self._cost = self._made - t0
            self._done = number
            self._cond.notify_all()
        if math.isfinite(self.reach) and not math.isfinite(was):  # once, until forecasts are whole again
            log.info(
                "start forecasts of %d pending jobs cut to their work budget: none beyond %.0f s ahead (%.1f s)",
                len(covered), self.reach - now, self._cost,
            )  # fmt: skip

    def _check(self, ctl: Any, wanted: set[int] | None) -> tuple[bool, bool, dict[int, StartEstimate], set[int]]:
        """(usable: the same queue, or young and covering ``wanted``; covering ``wanted``; the cached forecasts;
        the ``wanted`` jobs pending)."""
        with self._cond:  # one consistent view of the cache, taken apart from the controller's lock
            (made_key, cached), made, cost, covered = self._cache, self._made, self._cost, self._covered
        with ctl.lock:
            key = _key(ctl)
            live = {j for j in wanted or () if j in ctl.live and ctl.live[j].state == "PENDING"}
        if made == -math.inf:
            return False, False, cached, live
        covers = live <= covered
        # A listing reuses forecasts of a changed queue only when new ones are slow to make (4x their cost): a
        # cheap one is remade, else a limit changed by hal update was listed with its old plan for MIN_AGE.
        # The thread keeping them fresh (no ``wanted``) also leaves them alone for MIN_AGE.
        keep = 4.0 * cost if wanted is not None else max(MIN_AGE, 4.0 * cost)
        young = time.monotonic() - made < keep
        same_nodes = made_key[3] == key[3]  # a drain or resume: never the old plan (QA: drained nodes named)
        return made_key == key or (young and covers and same_nodes), covers, cached, live

    def save(self, path: Path) -> None:
        """Keep what the forecaster learned across a restart (else p90s are the plan on requests until MIN_SCORES
        forecast jobs have started again): written atomically, owner-only (hal/controller/private.py)."""
        with self._saving:  # the periodic save and the one at stop never interleave
            try:
                write_private(path, json.dumps(self._state()))
            except OSError as exc:
                log.warning("start forecasts' errors not saved to %s: %s", path, exc)

    def keep(self, path: Path, every: float = SAVE_EVERY) -> None:
        """Save to ``path`` every ``every`` seconds while the forecaster learns (a kill -9 loses at most that
        interval), from a thread of its own: the disk never holds up a cycle, and the controller's lock is not
        taken (the state is copied whole). The thread ends with ``stop``; the server saves once more then."""
        if self._keeper is None and not self._halt.is_set():
            self._keeper = threading.Thread(
                target=self._keep, args=(path, every), name="hal-forecast-save", daemon=True
            )
            self._keeper.start()

    def _keep(self, path: Path, every: float) -> None:
        saved = self._learned()
        while not self._halt.wait(every):
            now = self._learned()
            if now != saved:
                saved = now  # before the copy: what is learned meanwhile is saved next time
                self.save(path)

    def _learned(self) -> tuple[int, int]:
        """Changes when a save has something new: errors or scores recorded, first forecasts made or used."""
        return self.forecaster.learned, len(self.forecaster.told)

    def _state(self) -> dict[str, Any]:
        """The forecaster's state, copied while the controller's thread may add to it (a copy it disturbed is
        taken again)."""
        for _ in range(5):
            with suppress(RuntimeError):  # "deque mutated during iteration", "dictionary changed size"
                return self.forecaster.state()
        return self.forecaster.state()

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

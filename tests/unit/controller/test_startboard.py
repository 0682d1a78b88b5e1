"""StartBoard: start forecasts made off the request path. A listing never waits for one longer than WAIT, the
last forecasts answer at once while new ones are made, and a stop halts a forecast in flight.

The threading tests stand a slow forecaster in for the real one (each forecast lasts until the test lets it
end); the shutdown of a real, long forecast is tested too, on a real scheduler with a long queue."""

from __future__ import annotations

import math
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from hal.controller import startboard
from hal.controller.startboard import StartBoard
from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import StartEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


class Limits:
    name = "limits"

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.time_limit or 3600.0
        return Estimate(limit, limit)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


class Ctl:
    """What the board reads of a controller: its lock, scheduler, cycle count, clock, live jobs and gates."""

    def __init__(self, pending: int) -> None:
        book, space = pool_for(8)
        self.sched = Scheduler(book, space, Profile(order="multifactor"), Limits())
        self.sched.submit(JobSpec(1, 0.0, tasks=8, time_limit=3000.0), 0.0)
        self.sched.cycle(0.0)
        self.lock = threading.RLock()
        self.cycles, self.gated, self.gates, self.deferred = 1, set(), {}, {}
        self.live: dict[int, Any] = {}
        for j in range(2, pending + 2):
            self.add(j)

    def add(self, job_id: int) -> None:
        with self.lock:
            self.sched.submit(JobSpec(job_id, 1.0, tasks=1, time_limit=600.0 * (1 + job_id % 5)), 1.0)
            self.live[job_id] = SimpleNamespace(state="PENDING", array_job_id=None)
            self.cycles += 1

    def clock(self) -> float:
        return 2.0


class Slow:
    """Stands in for the Forecaster: each forecast lasts until ``go`` is set (5 s at most), or until halted."""

    def __init__(self) -> None:
        self.go, self.busy = threading.Event(), threading.Event()
        self.halt: Any = None
        self.reach, self.made = math.inf, 0

    def fork(self) -> Slow:
        return self

    def starts(self, s: Scheduler, now: float) -> dict[int, StartEstimate]:
        self.busy.set()
        end = time.monotonic() + 5.0
        try:
            while not self.go.wait(0.01) and time.monotonic() < end:
                if self.halt is not None and self.halt.is_set():
                    from hal.engine.forward import Halted

                    raise Halted
        finally:
            self.busy.clear()
        self.made += 1
        return {w.spec.job_id: StartEstimate(w.spec.job_id, 100.0 * self.made, 200.0) for w in s.queue.items()}


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startboard, "WAIT", 0.3, raising=False)


def board_with(slow: Slow) -> StartBoard:
    board = StartBoard()
    board.forecaster = slow  # type: ignore[assignment]
    return board


def test_a_listing_waits_for_a_slow_first_forecast_no_longer_than_its_budget(short: None) -> None:
    """QA: with 5,000 pending jobs `hal queue --start` waited 30 s for the first forecast, then timed out."""
    ctl, slow = Ctl(5), Slow()
    board = board_with(slow)
    try:
        t0 = time.monotonic()
        got = board.estimates(ctl, {2, 3})
        assert time.monotonic() - t0 < 1.0 and got == {}  # none yet: N/A (the API shows the planner's own plan)
        assert slow.busy.is_set() and board.computing()  # it is being made, off the request path
        slow.go.set()
        deadline = time.monotonic() + 5.0
        while not (got := board.estimates(ctl, {2, 3})) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got[2].p50 == 100.0 and not board.computing()
    finally:
        board.stop()


def test_the_last_forecasts_answer_while_new_ones_are_made(short: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hal show JOB` lost its planned start while a forecast was in flight: the last one now answers at once."""
    monkeypatch.setattr(startboard, "MIN_AGE", 0.0)
    ctl, slow = Ctl(5), Slow()
    board = board_with(slow)
    try:
        slow.go.set()
        first = board.estimates(ctl, {2})
        assert first[2].p50 == 100.0
        slow.go.clear()
        ctl.add(9)  # a new job: the next listing asks for a new forecast, which takes long
        t0 = time.monotonic()
        got = board.estimates(ctl, {9})
        assert time.monotonic() - t0 < 1.0 and 9 not in got and got[2].p50 == 100.0
        assert slow.busy.wait(2.0) and board.computing()
        for _ in range(3):  # while it is made, listings of jobs the last one covers answer with it
            t0 = time.monotonic()
            again = board.estimates(ctl, {2})
            assert time.monotonic() - t0 < 1.0 and again[2].p50 == 100.0
        slow.go.set()
        deadline = time.monotonic() + 5.0
        while 9 not in (got := board.estimates(ctl, {9})) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got[9].p50 == 200.0 and got[2].p50 == 200.0
    finally:
        board.stop()


def test_stop_halts_a_forecast_in_flight_at_once(short: None) -> None:
    """After cancelling 5,000 jobs during a forecast, SIGTERM took 28 s to stop the server."""
    ctl, slow = Ctl(5), Slow()
    board = board_with(slow)
    board.estimates(ctl, {2})
    assert slow.busy.wait(2.0)
    thread = board._thread
    t0 = time.monotonic()
    board.stop()
    assert time.monotonic() - t0 < startboard.JOIN + 0.2
    assert thread is not None and not thread.is_alive() and not slow.busy.is_set()
    t0 = time.monotonic()
    assert board.estimates(ctl, {2}) == {} and time.monotonic() - t0 < 0.1  # stopped: no waiting, no thread
    assert board._thread is None


def test_stop_halts_a_real_forecast_of_a_long_queue(short: None) -> None:
    """The real ensemble, unbounded, on 1,500 pending jobs (tens of seconds): the halt is seen within a cycle."""
    ctl = Ctl(1500)
    board = StartBoard()
    board.forecaster.work = math.inf
    for i in range(60):
        board.forecaster.observe(1800.0, 600.0 + 40.0 * i, "u")
    t0 = time.monotonic()
    assert board.estimates(ctl, {2}) == {}  # still being made when the listing's wait ends
    assert time.monotonic() - t0 < 1.0 and board.computing()
    thread = board._thread
    t0 = time.monotonic()
    board.stop()
    assert time.monotonic() - t0 < 1.0 and thread is not None and not thread.is_alive()


def test_the_forecast_thread_ends_when_nobody_asks(short: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startboard, "IDLE", 0.2, raising=False)
    monkeypatch.setattr(startboard, "POLL", 0.02, raising=False)
    ctl, slow = Ctl(3), Slow()
    slow.go.set()
    board = board_with(slow)
    try:
        assert board.estimates(ctl, {2})[2].p50 == 100.0
        deadline = time.monotonic() + 3.0
        while board._thread is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert board._thread is None
        ctl.add(7)
        assert 7 in board.estimates(ctl, {7})  # the next listing starts it again
    finally:
        board.stop()


def test_forecasts_are_kept_fresh_while_listings_ask(short: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between listings the thread remakes the forecasts as the queue changes, so a listing finds fresh ones."""
    monkeypatch.setattr(startboard, "MIN_AGE", 0.05)
    monkeypatch.setattr(startboard, "POLL", 0.02, raising=False)
    ctl, slow = Ctl(3), Slow()
    slow.go.set()
    board = board_with(slow)
    try:
        assert board.estimates(ctl, {2})[2].p50 == 100.0
        ctl.add(8)
        deadline = time.monotonic() + 3.0
        while slow.made < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.made == 2  # made without a listing asking
        t0 = time.monotonic()
        assert board.estimates(ctl, {8})[8].p50 == 200.0 and time.monotonic() - t0 < 0.1
    finally:
        board.stop()


def test_a_listing_after_a_change_gets_forecasts_of_the_changed_queue_when_they_are_cheap(short: None) -> None:
    """CI: `hal update JOB TimeLimit=2` then `hal queue --start` listed the waiting job behind the old 30 minutes:
    a forecast made a moment before the update was reused because it was young (MIN_AGE) and covered the job."""
    ctl, slow = Ctl(3), Slow()
    slow.go.set()
    board = board_with(slow)
    try:
        assert board.estimates(ctl, {2})[2].p50 == 100.0
        time.sleep(0.01)  # the update comes later than 4x the forecast's cost (microseconds here), not 2 s later
        with ctl.lock:
            ctl.cycles += 1  # what an update does to the key: the same jobs pending, a different plan
        assert board.estimates(ctl, {2})[2].p50 == 200.0
        assert board.estimates(ctl, {2})[2].p50 == 200.0  # unchanged since: reused, not remade
    finally:
        board.stop()


def test_forecasts_made_before_a_drain_are_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: for 2-3 s after `hal drain`, `hal queue --start` named the drained node in SCHEDNODES: forecasts of a
    changed queue are reused while younger than 4x their cost, and a drain counted as any change. A young
    forecast is still reused for a new job; after a drain (or resume) a new one is made (awaited up to WAIT, as
    for any listing; one that costs more than WAIT answers with the last forecasts while the new one is made)."""
    monkeypatch.setattr(startboard, "WAIT", 1.0, raising=False)
    ctl, slow = Ctl(5), Slow()
    ctl.drained = {}  # type: ignore[attr-defined]
    board = board_with(slow)
    try:
        threading.Timer(0.5, slow.go.set).start()  # the first forecast costs half a second: young for two
        deadline = time.monotonic() + 5.0
        while not (got := board.estimates(ctl, {2})) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got[2].p50 == 100.0
        with ctl.lock:
            ctl.cycles += 1  # a cycle ran: the queue changed, but the forecast is young and covers job 2
        assert board.estimates(ctl, {2})[2].p50 == 100.0
        with ctl.lock:
            ctl.drained["n0"] = {"reason": "x"}  # type: ignore[attr-defined]
            ctl.sched.epoch += 1
            ctl.cycles += 1
        assert board.estimates(ctl, {2})[2].p50 == 200.0  # made again, on the nodes left
    finally:
        board.stop()

"""Scoring start-time forecasts in a replay: what a user was told at submission vs when the job started.

The replay is the simulator's own event loop (same rules as hal.sim.simulator) with one addition: at
sampled submissions, after the cycle of that instant, the newly submitted job's start is forecast from
clones of the scheduler, every way at once and on the same state: the ensemble's p50 and p90 (what ships),
one run on point predictions, one on upper predictions, and one on requested times (what Slurm's
``squeue --start`` shows); and, as a diagnostic, one run on the true runtimes (still without the jobs that
arrive later), which tells runtime errors from arrivals apart. Jobs that start at once are not scored.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import RuntimePredictor
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.forecast import Forecaster, forward_starts, what_if
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.clock import CORRECT, END, SUBMIT, EventQueue
from hal.sim.simulator import corrected_end, pool_for


@dataclass(frozen=True, slots=True)
class Told:
    """One scored forecast (absolute seconds); ``p50``/``p90`` are the ensemble's (NaN without one)."""

    job_id: int
    submit: float
    actual: float
    p50: float
    p90: float
    raw90: float  # the ensemble's p90 before calibration
    point: float
    upper: float
    request: float
    exact: float  # forward run on the true runtimes, no further arrivals: what only later arrivals change
    floor90: float = math.nan  # p90 under the server's small-sample rule (``floor_until``): no earlier than
    # ``request`` while too few errors are known; NaN without the rule


@dataclass(frozen=True, slots=True)
class ForecastScore:
    sampled: int  # sampled submissions
    jobs: int  # forecasts scored (sampled submissions that had to wait)
    median_wait: float
    median_ae_p50: float  # ensemble median
    median_ae_point: float  # one run on point predictions
    median_ae_request: float
    median_ae_exact: float  # true runtimes, arrivals ignored
    delayed: float  # share of jobs that started later than even that forecast (jobs that arrived later went first)
    mean_ae_p50: float
    mean_ae_request: float
    within_p90: float  # share of jobs that started no later than the (calibrated) p90
    within_raw90: float  # ... than the ensemble's p90 before calibration
    within_upper: float  # ... than one run on upper predictions
    ratio: float  # median error on requested times / on p50: >= 2 is the target
    ms_per_forecast: float  # ensemble, mean
    seconds: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _med(x: npt.NDArray[np.float64]) -> float:
    return float(np.median(x)) if len(x) else math.nan


def score(rows: list[Told], sampled: int, ms: float, seconds: float) -> ForecastScore:
    if not rows:
        n = math.nan
        return ForecastScore(sampled, 0, n, n, n, n, n, n, n, n, n, n, n, n, ms, seconds)
    cols = [(r.actual, r.p50, r.p90, r.point, r.upper, r.request, r.submit, r.raw90, r.exact) for r in rows]
    a = np.array(cols, dtype=np.float64)
    act = a[:, 0]
    e50, epoint, ereq = np.abs(a[:, 1] - act), np.abs(a[:, 3] - act), np.abs(a[:, 5] - act)
    med50 = _med(e50)
    return ForecastScore(
        sampled,
        len(rows),
        _med(act - a[:, 6]),
        med50,
        _med(epoint),
        _med(ereq),
        _med(np.abs(a[:, 8] - act)),
        float((act > a[:, 8] + 1e-9).mean()),
        float(e50.mean()),
        float(ereq.mean()),
        float((act <= a[:, 2] + 1e-9).mean()),
        float((act <= a[:, 7] + 1e-9).mean()),
        float((act <= a[:, 4] + 1e-9).mean()),
        _med(ereq) / med50 if med50 > 0 else math.inf,
        ms,
        seconds,
    )


class _Replay:
    """The simulator's loop on one Scheduler, with a Forecaster learning from every completion."""

    def __init__(self, jobs: list[JobSpec], sched: Scheduler, forecaster: Forecaster | None) -> None:
        self.jobs, self.sched, self.forecaster = jobs, sched, forecaster
        self.events = EventQueue()
        self.events.load_submissions([(j.submit_time, i) for i, j in enumerate(jobs)])
        self.index = {j.job_id: i for i, j in enumerate(jobs)}
        self.started = np.full(len(jobs), np.nan)
        self.killed: set[int] = set()  # ended at a --time-min cut: the scheduler's TIMEOUT, not learned

    def step(self) -> tuple[float, int, int, bool]:
        """One event and the cycle after it: (time, kind, job index, accepted)."""
        sched, jobs, events = self.sched, self.jobs, self.events
        now, kind, i = events.pop()
        job = jobs[i]
        if kind == SUBMIT:
            try:
                sched.submit(job, now)
            except Rejected:
                return now, kind, i, False

        elif kind == END:
            act = sched.running[job.job_id]
            on_request = getattr(sched.predictor, "on_request", None)  # asked before finish() teaches it the run
            fallback = on_request is not None and on_request(job)
            if self.forecaster is not None and i not in self.killed and not fallback:  # as the live board learns
                self.forecaster.observe(act.item.estimate, now - act.start, job.user, job.requested)  # as StartBoard
            sched.finish(job.job_id, now, learn=i not in self.killed)
        else:
            over = sched.running.get(job.job_id)
            if over is None:
                return now, kind, i, True
            new_end = corrected_end(over.start, now, job.requested, sched.profile.correction)  # as the simulator
            sched.extend(job.job_id, new_end)
            if over.start + (job.runtime or 0.0) > new_end:
                events.push(new_end, CORRECT, i)
            heap = events.heap
            if heap and heap[0][0] == now and heap[0][1] == CORRECT:
                return now, kind, i, True  # every overrun of this instant is extended before a cycle
        for p in sched.cycle(now).starts:
            if self.forecaster is not None:
                self.forecaster.started(p.job_id, now)
            k = self.index[p.job_id]
            run = p.run_of(jobs[k].runtime or 0.0)
            if run < (jobs[k].runtime or 0.0):
                self.killed.add(k)
            self.started[k] = now
            events.push(now + run, END, k)
            if now + run > p.predicted_end:
                events.push(p.predicted_end, CORRECT, k)
        return now, kind, i, True


def forecast_rows(
    jobs: list[JobSpec],
    capacity: int,
    profile: Profile,
    predictor: RuntimePredictor,
    samples: int = 1000,
    members: int = 20,
    by_user: int = 8,
    offset: int = 0,
    floor_until: int = 0,
) -> tuple[list[Told], int, float]:
    """Replay ``jobs``; forecast at about ``samples`` evenly spaced submissions (``members=0``: requests only).
    ``floor_until``: also the p90 the server gives under its small-sample rule (``Told.floor90``).

    Returns the scored forecasts, how many submissions were sampled and the ensemble's mean ms per forecast.
    """
    book, space = pool_for(capacity)
    sched = Scheduler(book, space, profile, predictor)
    forecaster = Forecaster(members=members, by_user=by_user, floor_until=floor_until) if members > 0 else None
    replay = _Replay(jobs, sched, forecaster)
    every = max(1, len(jobs) // max(samples, 1))
    told: dict[int, tuple[float, ...]] = {}
    sampled, spent = 0, 0.0
    while len(replay.events):
        now, kind, i, accepted = replay.step()
        if kind != SUBMIT or not accepted or i % every != offset % every:
            continue
        sampled += 1
        if not np.isnan(replay.started[i]):
            continue
        jid = jobs[i].job_id
        got = [forward_starts(sched, now, b, wanted=(jid,)).get(jid, math.inf) for b in ("point", "upper", "request")]
        p50 = p90 = raw90 = floor90 = math.nan
        if forecaster is not None:
            t0 = time.perf_counter()
            raw = forecaster.ensemble(sched, now, (jid,))
            est = forecaster.calibrated(now, raw)[jid]
            spent += time.perf_counter() - t0
            p50, p90, raw90 = est.p50, est.p90, raw[jid].p90
            if floor_until:  # Forecaster.starts: the plan on requests, while it is unsure
                floor90 = max(p90, got[2]) if forecaster.unsure() else p90
        told[i] = (p50, p90, raw90, got[0], max(got[0], got[1]), got[2], _exact(replay, now, jid), floor90)
    rows = [
        Told(jobs[i].job_id, jobs[i].submit_time, float(replay.started[i]), *f)
        for i, f in told.items()
        if replay.started[i] >= 0
    ]
    return rows, sampled, 1000.0 * spent / max(len(told), 1)


def _exact(replay: _Replay, now: float, jid: int) -> float:
    """The forecast a clairvoyant forecaster (true runtimes) would make, still ignoring later arrivals."""
    s, jobs, index = replay.sched, replay.jobs, replay.index
    runs = {w.spec.job_id: jobs[index[w.spec.job_id]].runtime or 0.0 for w in [*s.queue.items(), *s.held.values()]}
    ends = {j: act.start + (jobs[index[j]].runtime or 0.0) for j, act in s.running.items()}
    return what_if(s, now, ends, runs, (jid,)).get(jid, math.inf)


def replay_with_forecasts(
    jobs: list[JobSpec],
    capacity: int,
    profile: Profile,
    predictor: RuntimePredictor,
    samples: int = 1000,
    members: int = 20,
    by_user: int = 8,
    offset: int = 0,
) -> ForecastScore:
    """Simulate ``jobs`` and score forecasts made at about ``samples`` evenly spaced submissions."""
    t0 = time.perf_counter()
    rows, sampled, ms = forecast_rows(jobs, capacity, profile, predictor, samples, members, by_user, offset)
    return score(rows, sampled, ms, time.perf_counter() - t0)

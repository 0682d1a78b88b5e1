"""Scoring start-time forecasts in a replay: what a user was told at submission vs when the job started.

The replay is the simulator's own event loop (same rules as hal.sim.simulator) with one addition: at
sampled submissions, after the cycle of that instant, the newly submitted job's start is forecast from
a copy of the scheduler, three ways: p50 (point predictions), p90 (upper predictions) and on requested
times (what Slurm's ``squeue --start`` shows). Jobs that start at once are not scored: every method
gets them right.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from hal.engine.api import RuntimePredictor
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.forecast import forward_starts
from hal.engine.predict.correct import extend
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.clock import CORRECT, END, SUBMIT, EventQueue
from hal.sim.simulator import pool_for


@dataclass(frozen=True, slots=True)
class ForecastScore:
    jobs: int  # forecasts scored (sampled submissions that had to wait)
    median_ae_p50: float
    median_ae_request: float
    mean_ae_p50: float
    mean_ae_request: float
    within_p90: float  # share of jobs that started no later than their p90
    median_ae_p90: float
    ratio: float  # median error on requested times / on p50: >= 2 is the target
    seconds: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def score(rows: list[tuple[float, float, float, float]], seconds: float) -> ForecastScore:
    """Rows of (actual start, p50, p90, on requests)."""
    if not rows:
        return ForecastScore(0, 0, 0, 0, 0, 0, 0, 0, seconds)
    a = np.array(rows, dtype=np.float64)
    act, p50, p90, req = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    e50, e90, ereq = np.abs(p50 - act), np.abs(p90 - act), np.abs(req - act)
    med50 = float(np.median(e50))
    return ForecastScore(
        len(rows),
        med50,
        float(np.median(ereq)),
        float(e50.mean()),
        float(ereq.mean()),
        float((act <= p90 + 1e-9).mean()),
        float(np.median(e90)),
        float(np.median(ereq)) / med50 if med50 > 0 else math.inf,
        seconds,
    )


def replay_with_forecasts(
    jobs: list[JobSpec], capacity: int, profile: Profile, predictor: RuntimePredictor, samples: int = 1000
) -> ForecastScore:
    """Simulate ``jobs`` and score forecasts made at about ``samples`` evenly spaced submissions."""
    book, space = pool_for(capacity)
    sched = Scheduler(book, space, profile, predictor)
    every = max(1, len(jobs) // max(samples, 1))
    events = EventQueue()
    events.load_submissions([(j.submit_time, i) for i, j in enumerate(jobs)])
    index = {j.job_id: i for i, j in enumerate(jobs)}
    started = np.full(len(jobs), np.nan)
    told: dict[int, tuple[float, float, float]] = {}
    t0 = time.perf_counter()
    while len(events):
        now, kind, i = events.pop()
        job = jobs[i]
        if kind == SUBMIT:
            try:
                sched.submit(job, now)
            except Rejected:
                continue
        elif kind == END:
            sched.finish(job.job_id, now)
        else:
            act = sched.running.get(job.job_id)
            if act is None:
                continue
            new_total = extend(now - act.start, job.time_limit, profile.correction)
            sched.extend(job.job_id, act.start + new_total)
            if (job.runtime or 0.0) > new_total:
                events.push(act.start + new_total, CORRECT, i)
        plan = sched.cycle(now)
        for p in plan.starts:
            k = index[p.job_id]
            run = jobs[k].runtime or 0.0
            started[k] = now
            events.push(now + run, END, k)
            if now + run > p.predicted_end:
                events.push(p.predicted_end, CORRECT, k)
        if kind == SUBMIT and i % every == 0 and np.isnan(started[i]):
            told[i] = _forecast(sched, now, job.job_id)
    rows = [(float(started[i]), *told[i]) for i in told if not np.isnan(started[i])]
    return score(rows, time.perf_counter() - t0)


def _forecast(sched: Scheduler, now: float, job_id: int) -> tuple[float, float, float]:
    out = []
    for basis in ("point", "upper", "request"):
        out.append(forward_starts(sched, now, basis).get(job_id, math.inf))
    return out[0], max(out[0], out[1]), out[2]

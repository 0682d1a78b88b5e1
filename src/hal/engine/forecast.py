"""When will each pending job start? Forward-simulate a copy of the scheduler on predicted runtimes.

The copy replays the same profile (order, backfilling) with no further arrivals: running jobs end at
their predicted ends, pending jobs run for their predictions. ``p50`` plans on the point predictions,
``p90`` on the upper ones; planning every job on its requested time gives what Slurm's
``squeue --start`` shows. The scheduler itself is never modified.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace

from hal.engine.api import Estimate
from hal.engine.cycle import Active, Scheduler
from hal.engine.predict.correct import extend
from hal.engine.queue import Waiting
from hal.model.job import JobSpec

BASES = ("point", "upper", "request")


@dataclass(frozen=True, slots=True)
class StartEstimate:
    """Predicted start of a pending job: p50 on point predictions, p90 on upper ones (seconds, absolute)."""

    job_id: int
    p50: float
    p90: float


class _Fixed:
    """Replays the estimates already made; a forecast never teaches or queries the real predictor."""

    name = "fixed"

    def __init__(self, table: dict[int, float]) -> None:
        self.table = table

    def predict(self, job: JobSpec) -> Estimate:
        value = self.table[job.job_id]
        return Estimate(value, value)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def _duration(item: Waiting, basis: str) -> float:
    limit = item.spec.time_limit
    if basis == "request" and limit is not None and limit > 0:
        return limit
    return item.upper if basis == "upper" else item.estimate


def _running_end(act: Active, now: float, basis: str, rule: str) -> float:
    """When a running job is planned to end; one that outlived its plan is extended, as the shell would."""
    end = act.start + _duration(act.item, basis)
    if basis == "point":
        end = max(end, act.predicted_end)
    while end <= now:
        end = act.start + extend(now - act.start, act.item.spec.time_limit, rule)
    return end


def forward_starts(s: Scheduler, now: float, basis: str = "point", horizon: float = math.inf) -> dict[int, float]:
    """Predicted start of every pending (not held) job, from a copy of ``s`` at time ``now``."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; choose one of {list(BASES)}")
    pending = s.queue.items()
    if not pending:
        return {}
    table = {w.spec.job_id: _duration(w, basis) for w in pending}
    sim = Scheduler(copy.deepcopy(s.book), s.space, s.profile, _Fixed(table))
    sim.ctx.usage, sim.ctx.total_usage = dict(s.ctx.usage), s.ctx.total_usage
    sim.ledger = copy.deepcopy(s.ledger)
    sim.known = s.known - {w.spec.job_id for w in pending}  # so dependencies on earlier jobs resolve
    sim.outcomes = dict(s.outcomes)
    rule = s.profile.correction
    for jid, act in s.running.items():
        end = _running_end(act, now, basis, rule)
        sim.running[jid] = replace(act, predicted_end=end, released=False)
        if act.released:  # the real book already counts it free; the copy must hold it until its planned end
            sim.book.take(act.alloc)
        sim.ends.append((end, act.seq, jid))
    sim.ends.sort()
    sim._seq = s._seq
    for item in sorted(pending, key=lambda w: w.seq):
        sim.submit(item.spec, now)
    return _drain(sim, now, {w.spec.job_id for w in pending}, horizon)


def _drain(sim: Scheduler, now: float, wanted: set[int], horizon: float) -> dict[int, float]:
    starts: dict[int, float] = {}
    t = now
    while True:
        for p in sim.cycle(t).starts:
            if p.job_id in wanted:
                starts[p.job_id] = t
        if len(starts) == len(wanted) or not sim.ends:
            return starts
        t = sim.ends[0][0]
        if t > horizon:
            return starts
        while sim.ends and sim.ends[0][0] <= t:
            sim.finish(sim.ends[0][2], t)


def start_estimates(s: Scheduler, now: float) -> dict[int, StartEstimate]:
    """p50 and p90 predicted starts of the pending jobs, what ``hal queue`` shows."""
    p50 = forward_starts(s, now, "point")
    p90 = forward_starts(s, now, "upper")
    return {jid: StartEstimate(jid, start, max(start, p90.get(jid, math.inf))) for jid, start in sorted(p50.items())}

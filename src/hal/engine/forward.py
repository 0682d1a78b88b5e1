"""Forward runs of a clone of the scheduler, with no further arrivals: the building block of start forecasts.

A *planned* run replays one duration per job as both plan and truth: the point predictions, the upper ones,
or the requested times (what Slurm's ``squeue --start`` shows), while the queue keeps the scheduler's own
order. ``what_if`` runs given true ends and durations while the clone keeps planning on its own predictions
(an ensemble member, hal/engine/forecast.py).
The scheduler itself is never modified.

Cost: every event (a job's end, an extension, a wake) is one cycle of the clone, and a cycle looks at every
queued and held job, so forecasting a whole queue of N jobs is about N cycles of O(N) work: quadratic (an
ensemble member drains 1,000 queued jobs in ~1 s, 3,000 in ~6 s). A ``Budget`` caps the work of one run (the
queue and held lengths summed over its cycles, plus ``CYCLE_WORK`` a cycle and ``START_WORK`` a start); a
run that reaches its cap stops before the cycle that would pass it and says so (``cut``): starts after the
last cycle it ran (``reached``) are unknown. Its ``halt`` event stops a run within one cycle (``Halted``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from hal.engine.api import Estimate
from hal.engine.cycle import Active, Scheduler
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.predict.basic import UNLIMITED_PLAN
from hal.engine.predict.correct import extend
from hal.engine.queue import PendingQueue, Waiting
from hal.model.job import JobSpec

BASES = ("point", "upper", "request")
# What a cycle costs beyond the jobs it looks at, and what each start costs (placing it, taking it out of the
# queue), in units of one queued job looked at in one cycle. Fitted with benchmarks/forecast_scale.py on whole
# queues of 200 to 3,000 jobs: a unit is 0.5-1 us of a forward run on the 2-core machine of benchmarks/.
CYCLE_WORK = 500
START_WORK = 600
DATA_HOLDS = 16  # queued jobs a forward run asks when delay scheduling stops holding them (``_data_lapses``)


class Halt(Protocol):
    """What stops a forward run from outside (a ``threading.Event`` of the caller's; the engine starts none)."""

    def is_set(self) -> bool: ...


class Halted(Exception):
    """A forward run was stopped from outside (its ``Budget.halt`` was set)."""


@dataclass(slots=True)
class Budget:
    """What one forward run may spend (``cap``, work units: see the module's docstring) and what it did."""

    cap: float = math.inf
    halt: Halt | None = None
    used: float = 0.0
    reached: float = -math.inf  # the time of its last cycle
    cut: bool = False  # it stopped at its cap with wanted jobs still waiting: later starts are unknown


class _Frozen:
    """The clone's predictor: a forward run never teaches the real one (and submits nothing to ask it)."""

    name = "frozen"

    def predict(self, job: JobSpec) -> Estimate:
        limit = job.time_limit or 1.0
        return Estimate(limit, limit)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


_FROZEN = _Frozen()


def _duration(item: Waiting, basis: str) -> float:
    """On requests, a job without a time limit holds its nodes for a year (Slurm's squeue --start plans an
    unlimited job so): planned on its 1-hour default there, the p90 of the jobs behind it was their p50 (QA)."""
    limit = item.spec.time_limit
    if basis == "request":
        return limit if limit is not None and limit > 0 else UNLIMITED_PLAN
    return item.upper if basis == "upper" else item.estimate


def past(end: float, act: Active, now: float, rule: str) -> float:
    """``end``, or where the correction rule extends it if the job has already run that long."""
    if end <= now:  # start + extend() can round back onto ``now``: strictly after it, whatever the times
        end = max(act.start + extend(now - act.start, act.item.spec.requested, rule), math.nextafter(now, math.inf))
    return end


def _planned_end(act: Active, now: float, basis: str, rule: str) -> float:
    end = act.start + _duration(act.item, basis)
    if basis == "point":
        end = max(end, act.predicted_end)
    return past(end, act, now, rule)


def _planned_as(w: Waiting, duration: float) -> Waiting:
    """``w`` planned to run ``duration``, still ranked by the estimate the scheduler ranks it by."""
    return replace(w, estimate=duration, upper=duration, ranked=w.rank_estimate)


def _replan(twin: Scheduler, pending: dict[int, float], running: dict[int, float]) -> None:
    """Make the clone plan on the given durations (pending) and ends (running) instead of its predictions.

    Only plans change: the queue keeps ranking jobs by the scheduler's own predictions (an SJF-like order
    re-sorted by requested times is not the order the scheduler runs, nor the one ``squeue --start`` plans)."""
    queue = PendingQueue(twin.queue.order)
    for w in twin.queue.items():
        queue.add(_planned_as(w, pending[w.spec.job_id]))
    twin.queue = queue
    twin.held = {j: _planned_as(w, pending[j]) for j, w in twin.held.items()}
    twin.ends = []
    for jid, end in running.items():
        act = twin.running[jid]
        if act.released:  # the book counts it free; the plan holds it until its planned end
            twin.book.take(act.alloc)
            act.released = False
        act.predicted_end = end
        twin.ends.append((end, act.seq, jid))
    twin.ends.sort()
    twin.epoch += 1


def _run(
    twin: Scheduler,
    now: float,
    ends: dict[int, float],
    runs: dict[int, float],
    wanted: set[int],
    horizon: float,
    budget: Budget | None = None,
    lapses: list[float] | None = None,
    placed: dict[int, tuple[int, ...]] | None = None,
) -> dict[int, float]:
    """Drive the clone like the shell does: true ends finish jobs, overrun plans are extended, cycles start jobs.
    ``placed``: filled with the nodes each wanted job starts on."""
    rule = twin.profile.correction
    truth = [(end, jid) for jid, end in ends.items()]
    heapq.heapify(truth)
    wakes = _wakes(twin, now, lapses)
    starts: dict[int, float] = {}
    t = now
    while True:
        while truth and truth[0][0] <= t:
            twin.finish(heapq.heappop(truth)[1], t)
        while twin.ends and twin.ends[0][0] <= t:  # outlived its plan: extended, never assumed to end now
            jid = twin.ends[0][2]
            act = twin.running[jid]
            twin.extend(jid, past(act.predicted_end, act, t, rule))
        if budget is not None and _spent(twin, budget, t):
            return starts
        plan = twin.cycle(t)
        for p in plan.starts:
            if p.job_id in wanted:
                starts[p.job_id] = t
                if placed is not None:
                    placed[p.job_id] = p.nodes
            heapq.heappush(truth, (t + p.run_of(runs[p.job_id]), p.job_id))  # cut at a lowered limit too
        if budget is not None:
            budget.used += START_WORK * len(plan.starts)
        while wakes and wakes[0] <= t:
            heapq.heappop(wakes)
        if len(starts) == len(wanted) or not (truth or wakes):
            return starts
        t = min(
            truth[0][0] if truth else math.inf,
            twin.ends[0][0] if twin.ends else math.inf,
            wakes[0] if wakes else math.inf,
        )
        if t > horizon:
            return starts


def _spent(twin: Scheduler, budget: Budget, t: float) -> bool:
    """Charge the cycle at ``t``; True (and ``cut``) if it would pass the cap. The first cycle always runs."""
    if budget.halt is not None and budget.halt.is_set():
        raise Halted
    cost = len(twin.queue) + len(twin.held) + CYCLE_WORK
    if budget.used > 0 and budget.used + cost > budget.cap:
        budget.cut = True
        return True
    budget.used += cost
    budget.reached = t
    return False


def _relaxations(s: Scheduler, now: float) -> list[float]:
    """When waiting jobs' --switches constraints lapse (submit + maxwait): the live controller cycles then,
    so a forward run must too, or it would wait for a whole leaf the job no longer needs."""
    args = getattr(getattr(s.book, "select", None), "args", None)
    if not isinstance(args, TopologyArgs):
        return []
    out = []
    for w in s.queue.items():
        if w.spec.switches is not None:
            wait = args.switch_wait(w.spec.switches_wait)
            if w.req.submit + wait > now:  # from when it could first start (a --begin, a release, its dependencies)
                out.append(w.req.submit + wait)
    heapq.heapify(out)
    return out


def data_lapses(s: Scheduler, now: float) -> list[float]:
    """When delay scheduling stops holding queued jobs for nodes near their --input-data (submit + [data] delay,
    or sooner the stage-in time it saves, for the first ``DATA_HOLDS`` such jobs held now: two placement searches
    each): the live controller cycles then, so a forward run must too, or it waited for the data's nodes to free up
    past the deadline `hal show` gives (QA: forecast an hour late). The same for every member of a forecast: its
    caller asks once and passes them (``what_if``'s ``lapses``)."""
    from hal.engine.plugins.placement_explain import data_delay_of, data_hold  # imports this module's engine

    book = s.book
    sel = getattr(book, "select", None)
    inner: object = getattr(sel, "inner", sel)
    if not isinstance(inner, TopologySelector) or inner.data is None:
        return []
    delay = data_delay_of(book)  # type: ignore[arg-type]
    held = [w.req for w in s.queue.items() if w.req.inputs and w.req.submit + delay > now]
    book.now = now
    sooner = [data_hold(book, req) for req in held[:DATA_HOLDS]]  # type: ignore[arg-type]
    return [req.submit + delay for req in held] + [t for t in sooner if t is not None and t > now]


def _wakes(s: Scheduler, now: float, lapses: list[float] | None = None) -> list[float]:
    """Times a forward run must cycle at although nothing ends: --switches and data delay lapses (``lapses``, when
    the caller has them), held jobs' --begin."""
    out = _relaxations(s, now) + (data_lapses(s, now) if lapses is None else list(lapses))
    out += [w.spec.begin_time for w in s.held.values() if w.spec.begin_time is not None and w.spec.begin_time > now]
    heapq.heapify(out)
    return out


def pending_jobs(s: Scheduler, wanted: Collection[int] | None) -> tuple[list[Waiting], set[int]]:
    """Every waiting job, and those to forecast: queued ones and held ones (a --begin time, or dependencies,
    which a forward run takes as met when the jobs they name end: ``afterok`` assumes success)."""
    items = s.queue.items() + list(s.held.values())
    pending = {w.spec.job_id for w in items}
    return items, pending if wanted is None else {j for j in wanted if j in pending}


def _plan(s: Scheduler, now: float, basis: str, items: list[Waiting]) -> tuple[dict[int, float], dict[int, float]]:
    rule = s.profile.correction
    runs = {w.spec.job_id: _duration(w, basis) for w in items}
    return runs, {jid: _planned_end(act, now, basis, rule) for jid, act in s.running.items()}


def forward_starts(
    s: Scheduler,
    now: float,
    basis: str = "point",
    horizon: float = math.inf,
    wanted: Collection[int] | None = None,
    budget: Budget | None = None,
) -> dict[int, float]:
    """Predicted start of the pending jobs in ``wanted`` (default all), planning on one ``basis``."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; choose one of {list(BASES)}")
    items, want = pending_jobs(s, wanted)
    if not want:
        return {}
    runs, ends = _plan(s, now, basis, items)
    twin = s.clone(_FROZEN, history=False)
    _replan(twin, runs, ends)
    return _run(twin, now, ends, runs, want, horizon, budget)


def planned_starts(
    s: Scheduler,
    now: float,
    bases: Sequence[str],
    wanted: set[int],
    horizon: float = math.inf,
    work: float = math.inf,
    halt: Halt | None = None,
    placed: dict[str, dict[int, tuple[int, ...]]] | None = None,
) -> tuple[list[dict[int, float]], float, float]:
    """``forward_starts`` on each basis, one run for the bases that give every job the same durations and ends
    (on user estimates, point, upper and request plans are all the limits). The runs share ``work`` evenly;
    once one is cut, the later ones stop where it stopped. Returns the starts per basis, the time after which
    starts are unknown (inf: no run was cut) and the work spent. ``placed``: filled with the nodes each job starts
    on, per basis (squeue's SCHEDNODES beside the start)."""
    items = s.queue.items() + list(s.held.values())
    plans = []
    for basis in bases:
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}; choose one of {list(BASES)}")
        plans.append(_plan(s, now, basis, items))
    distinct = [p for i, p in enumerate(plans) if p not in plans[:i]]
    done: list[dict[int, float]] = []
    spots: list[dict[int, tuple[int, ...]]] = []
    reach, used = math.inf, 0.0
    for runs, ends in distinct:
        twin = s.clone(_FROZEN, history=False)
        _replan(twin, runs, ends)
        budget = Budget(work / len(distinct), halt)
        spots.append({})  # filled only when the caller asks where jobs start
        nodes = spots[-1] if placed is not None else None
        done.append(_run(twin, now, ends, runs, wanted, min(horizon, reach), budget, placed=nodes))
        used += budget.used
        if budget.cut:
            reach = min(reach, budget.reached)
    if placed is not None:
        placed.update((basis, spots[distinct.index(p)]) for basis, p in zip(bases, plans, strict=True))
    return [done[distinct.index(p)] for p in plans], reach, used


def what_if(
    s: Scheduler,
    now: float,
    ends: dict[int, float],
    runs: dict[int, float],
    wanted: Collection[int],
    horizon: float = math.inf,
    budget: Budget | None = None,
    lapses: list[float] | None = None,
    placed: dict[int, tuple[int, ...]] | None = None,
) -> dict[int, float]:
    """Starts of ``wanted`` if the running jobs end at ``ends`` and pending jobs run for ``runs``, nobody else
    arriving: the clone plans on the scheduler's own predictions, extended when a job outlives them. ``lapses``:
    ``data_lapses(s, now)``, when the caller has them (a forecast's members share them); ``placed``: filled with
    the nodes each wanted job starts on."""
    return _run(s.clone(_FROZEN, history=False), now, ends, runs, set(wanted), horizon, budget, lapses, placed)

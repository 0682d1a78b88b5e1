"""Replays a workload through the engine on a virtual clock; jobs run their real runtime."""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from hal.engine.api import RuntimePredictor
from hal.engine.capacity import Book, PoolBook
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.plan import Plan
from hal.engine.predict.correct import extend
from hal.engine.profile import Profile
from hal.engine.time_min import cut_back_to, free_until, moved_cut
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace
from hal.sim.clock import CORRECT, END, SUBMIT, WAKE, EventQueue
from hal.sim.links import without
from hal.sim.stretch import stretched_run

Progress = Callable[[int], None]
Observer = Callable[[Plan, Scheduler], None]  # called after every cycle, e.g. by tests checking invariants
Stretch = Callable[[int, tuple[int, ...]], float]  # (job id, its nodes) -> runtime factor (sim/stretch.py)


@dataclass(slots=True)
class Outcome:
    """Per-job results as columns, in the order of the input jobs."""

    job_id: npt.NDArray[np.int64]
    submit: npt.NDArray[np.float64]
    start: npt.NDArray[np.float64]
    end: npt.NDArray[np.float64]
    run: npt.NDArray[np.float64]
    procs: npt.NDArray[np.int64]
    estimate: npt.NDArray[np.float64]
    backfilled: npt.NDArray[np.bool_]
    rejected: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    capacity: int = 0
    queue_samples: list[tuple[float, int, int]] = field(default_factory=list)  # (time, waiting, busy cpus)
    nodes: list[tuple[int, ...]] = field(default_factory=list)  # each job's node rows (empty on a processor pool)
    base_run: npt.NDArray[np.float64] | None = None  # the trace's run times when ``run`` was stretched by placement
    # With a stretch: the jobs it pushed past their --time, killed there (TIMEOUT): their work is lost, not useful.
    stretch_killed: npt.NDArray[np.bool_] | None = None
    cut_killed: npt.NDArray[np.bool_] | None = None  # ended at a --time-min cut (a TIMEOUT too, not learned)

    @property
    def done(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.start)


def pool_for(capacity: int) -> tuple[Book, ResourceSpace]:
    """A processor-counter machine, as SWF traces and the reference simulators model it."""
    space = ResourceSpace()
    return PoolBook((capacity, 0, 0)), space


def corrected_end(start: float, now: float, limit: float | None, rule: str) -> float:
    """The new predicted end of a job found overrunning at ``now``: strictly after ``now`` whatever the
    times are. ``start + extend(...)`` alone can round back onto ``now`` (a job started at 1000.1 with a
    60 s limit is found at 1060.1 with 59.99999999999989 s elapsed, extended to 60 s, i.e. to 1060.1 again),
    and the simulator would correct it at the same instant forever."""
    return max(start + extend(now - start, limit, rule), math.nextafter(now, math.inf))


class Simulation:
    """One run of a workload under one profile and predictor."""

    def __init__(
        self,
        jobs: list[JobSpec],
        book: Book,
        space: ResourceSpace,
        profile: Profile,
        predictor: RuntimePredictor,
        sample_every: float = 0.0,
        on_plan: Observer | None = None,
        stretch: Stretch | None = None,
    ) -> None:
        for job in jobs:
            if job.runtime is None:
                raise ValueError(f"job {job.job_id} has no runtime; the simulator needs one per job")
        self.jobs = jobs
        self.book = book
        self.sched = Scheduler(book, space, profile, predictor)
        self.profile = profile
        self.sample_every = sample_every
        self.on_plan = on_plan
        self.stretch = stretch
        self.runs = [float(j.runtime or 0.0) for j in jobs]  # what each job runs: stretched once it is placed
        self.cuts: dict[int, float] = {}  # jobs cut by a limit backfill lowered (--time-min): their whole run
        self.killed: set[int] = set()  # jobs that ended at such a cut
        self.first: dict[int, float] = {}  # a cut job's first cut (its end at its start): never cut back below it
        self.moved: set[int] = set()  # cut jobs whose cut moved later: cut back when the head can start sooner
        self.stale: set[tuple[int, float, int]] = set()  # (job, time, kind) of end or cut events a cut-back replaced
        self.capped: set[int] = set()  # jobs the stretch pushed past their --time: cut there, a TIMEOUT
        self.placed: list[tuple[int, ...]] = [()] * len(jobs)

    def run(self, progress: Progress | None = None) -> Outcome:
        jobs = self.jobs
        n = len(jobs)
        index = {j.job_id: i for i, j in enumerate(jobs)}
        if len(index) != n:
            raise ValueError("job ids must be unique")
        # Per-job results as lists (a numpy element store costs more than the list's) until the end.
        start: list[float] = [math.nan] * n
        end: list[float] = [math.nan] * n
        est0: list[float] = [0.0] * n
        backfilled: list[bool] = [False] * n
        rejected: list[str] = []
        refused: set[int] = set()
        events = EventQueue()
        events.load_submissions([(j.submit_time, i) for i, j in enumerate(jobs)])
        heap, pop = events.heap, heapq.heappop
        sched = self.sched
        cycle = sched.cycle
        on_plan = self.on_plan
        samples: list[tuple[float, int, int]] = []
        next_sample = 0.0
        total_cpus = sched.ctx.total_cpus
        handled = 0
        t0 = time.perf_counter()
        while heap:
            now, kind, _, i = pop(heap)
            job = jobs[i]
            if self.stale and (i, now, kind) in self.stale:  # an end or cut event a cut-back replaced (a
                self.stale.discard((i, now, kind))  # correction of the same job at that instant still counts)
                continue
            if kind == SUBMIT:
                if refused and any(d.job_id in refused for d in job.dependencies):  # sim/links.py: it never runs,
                    job = without(job, refused)  # so its dependants start without waiting for it
                try:
                    item = sched.submit(job, now)
                except Rejected as exc:
                    rejected.append(str(exc))
                    if job.job_id not in sched.known:  # a second submission of an id is no refusal of that job
                        refused.add(job.job_id)
                    continue
                est0[i] = item.estimate
                for at in self._wakes(job):
                    if at > now:
                        events.push(at, WAKE, i)
                handled += 1
                if progress is not None and handled % 4096 == 0:
                    progress(handled)
            elif kind == END:  # a TIMEOUT at a --time-min cut (not learned: censored.py) or at the --time the
                # stretch pushed it past (learned): either way not ok for afterok; a trace's cancel is not learned
                ok = i not in self.capped and i not in self.killed
                sched.finish(job.job_id, now, ok=ok, learn=i not in self.killed and not job.cut_short)
            elif kind == WAKE:
                pass  # a cycle at this time
            elif i in self.cuts and now >= end[i]:  # at its cut, before any cycle: it would count as ended
                self._at_cut(i, now, events, end)
                if heap and heap[0][0] == now and heap[0][1] == CORRECT:
                    continue
            else:
                act = sched.running.get(job.job_id)
                if act is None:
                    continue
                limit = act.item.spec.time_limit if i in self.cuts else job.requested  # a cut job's: its cut
                new_end = corrected_end(act.start, now, limit, self.profile.correction)
                sched.extend(job.job_id, new_end)
                if act.start + self.runs[i] > new_end:
                    events.push(new_end, CORRECT, i)
                if heap and heap[0][0] == now and heap[0][1] == CORRECT:
                    continue  # the engine's contract: extend every overrun of this instant before a cycle
            if self.moved and self._cut_back(now, events, end):
                continue  # a cut brought back to now is taken before any cycle
            plan = cycle(now)
            if on_plan is not None:
                on_plan(plan, sched)
            if plan.starts:
                self._apply(plan, events, index, start, end, backfilled)
            if self.sample_every and now >= next_sample:
                samples.append((now, len(sched.queue) + len(sched.held), total_cpus - sched.book.free_cpus()))
                next_sample = now + self.sample_every
        wall = time.perf_counter() - t0
        if progress is not None:
            progress(handled)
        return Outcome(
            job_id=np.array([j.job_id for j in jobs], dtype=np.int64),
            submit=np.array([j.submit_time for j in jobs], dtype=np.float64),
            start=np.array(start, dtype=np.float64),
            end=np.array(end, dtype=np.float64),
            run=np.array(self.runs, dtype=np.float64),
            procs=np.array([j.procs for j in jobs], dtype=np.int64),
            estimate=np.array(est0, dtype=np.float64),
            backfilled=np.array(backfilled, dtype=bool),
            rejected=rejected,
            wall_seconds=wall,
            capacity=total_cpus,
            queue_samples=samples,
            nodes=self.placed,
            base_run=None if self.stretch is None else np.array([j.runtime for j in jobs], dtype=np.float64),
            stretch_killed=None if self.stretch is None else np.array([self._timed_out(i) for i in range(n)], bool),
            cut_killed=np.isin(np.arange(n), sorted(self.killed)),
        )

    def _timed_out(self, i: int) -> bool:
        """Whether job ``i`` ran to the --time its stretched run was cut at (not ended sooner at a --time-min cut)."""
        return i in self.capped and i not in self.killed

    def _wakes(self, job: JobSpec) -> tuple[float, ...]:
        """Times a cycle must run for this job although no event happens then: its --begin time and the
        moment its --switches wait runs out (the live controller cycles on its own; here nothing would)."""
        if not job.begin_time and job.switches is None:  # nearly every job: nothing to wake for
            return ()
        wakes: tuple[float, ...] = (job.begin_time,) if job.begin_time else ()
        wait_of = getattr(getattr(getattr(self.book, "select", None), "args", None), "switch_wait", None)
        if job.switches is not None and wait_of is not None:
            wakes += (job.submit_time + float(wait_of(job.switches_wait)),)
        return wakes

    def _apply(
        self,
        plan: Plan,
        events: EventQueue,
        index: dict[int, int],
        start: list[float],
        end: list[float],
        backfilled: list[bool],
    ) -> None:
        for placement in plan.starts:
            i = index[placement.job_id]
            runtime = self.runs[i]
            if self.stretch is not None:  # cut at the job's --time, as a real scheduler kills it
                factor = self.stretch(placement.job_id, placement.nodes)
                runtime, cut = stretched_run(runtime, factor, self.jobs[i].requested)
                if cut:
                    self.capped.add(i)
            full, runtime = runtime, placement.run_of(runtime)  # killed at a limit backfill lowered (--time-min)
            self.runs[i] = runtime
            self.placed[i] = placement.nodes
            now = placement.start
            start[i] = now
            end[i] = now + runtime
            backfilled[i] = placement.backfilled
            if runtime < full:  # decided at the cut (_at_cut): it ends, or goes on while the head cannot start
                self.cuts[i], self.first[i] = full, now + runtime
                events.push(now + runtime, CORRECT, i)
                if now + runtime > placement.predicted_end:  # cut on its --time, predicted shorter: outlives that
                    events.push(placement.predicted_end, CORRECT, i)
                continue
            events.push(now + runtime, END, i)
            if now + runtime > placement.predicted_end:
                events.push(placement.predicted_end, CORRECT, i)

    def _at_cut(self, i: int, now: float, events: EventQueue, end: list[float]) -> None:
        """A job at its --time-min cut ends now, or goes on while the head it was cut for cannot start, as the live
        controller lets it (controller/lowered_limit.py): its limit moves to the head's start, never past --time."""
        full = self.cuts.pop(i)
        job, sched = self.jobs[i], self.sched
        act = sched.running[job.job_id]
        until = free_until(sched, job.job_id, now) if self.profile.backfill == "easy" else now
        new = moved_cut(until, act.start, job.time_limit, now)
        if new <= now - act.start + 1.0:
            self.killed.add(i)
            events.push(now, END, i)
            return
        run = min(full, new)
        act.item = replace(act.item, spec=replace(act.item.spec, time_limit=new), estimate=new, upper=new)
        sched.extend(job.job_id, act.start + new)
        self.runs[i], end[i] = run, act.start + run
        if run < full:
            self.cuts[i] = full
        self.moved.add(i)
        events.push(act.start + run, CORRECT if run < full else END, i)

    def _cut_back(self, now: float, events: EventQueue, end: list[float]) -> bool:
        """Cut jobs whose cut moved later go back to the head's start once it can start sooner again, never
        before their first cut, as the live controller does (controller/lowered_limit.py). True when one is due
        now: its cut event comes before any cycle."""
        due_now = False
        for i in sorted(self.moved):
            act = self.sched.running.get(self.jobs[i].job_id)
            if act is None:
                self.moved.discard(i)
                continue
            until = cut_back_to(self.sched, self.jobs[i].job_id, now)
            at = max(until, self.first[i], now)
            if at >= end[i] - 1.0:
                continue
            self.stale.add((i, end[i], CORRECT if i in self.cuts else END))  # as _apply or _at_cut pushed it
            self.moved.discard(i)
            self.cuts[i] = self.cuts.get(i, self.runs[i])  # its whole run, also when the moved cut let it end
            self.runs[i], end[i] = at - act.start, at
            events.push(at, CORRECT, i)
            if at > now:  # planned to end then; at now the planner keeps it until its cut event is taken
                new = at - act.start
                act.item = replace(act.item, spec=replace(act.item.spec, time_limit=new), estimate=new, upper=new)
                self.sched.extend(self.jobs[i].job_id, min(act.predicted_end, at))
            due_now = due_now or at == now
        return due_now

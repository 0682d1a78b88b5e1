"""Replays jobs on a node table where placement changes runtime: topology stretch and data stage-in.

The same engine (Scheduler, NodeBook, selector) runs on a virtual clock as in sim/simulator.py; the
difference is that a job's runtime is known only once its nodes are: stage-in + runtime x stretch(span), its
limit running from the launch (after the stage-in) as in the live controller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hal.engine.api import RuntimePredictor
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plan import Placement
from hal.engine.plugins.topology import TopoIndex
from hal.engine.predict.correct import extend
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.clock import CORRECT, END, SUBMIT, EventQueue
from hal.sim.stretch import StretchModel, stretched_run
from hal.sim.topo_metrics import TopoSummary, fragmentation, summarize_topology

OnStart = Callable[[JobSpec, tuple[int, ...], float], float]  # extra seconds before the job's work begins


@dataclass(slots=True)
class PlacementOutcome:
    """Per-job columns in input order, plus fragmentation samples (time, share)."""

    submit: npt.NDArray[np.float64]
    start: npt.NDArray[np.float64]
    end: npt.NDArray[np.float64]
    base_run: npt.NDArray[np.float64]
    nodes: npt.NDArray[np.int64]
    leaves: npt.NDArray[np.int64]
    level: npt.NDArray[np.int64]
    units: npt.NDArray[np.float64]
    frag: list[tuple[float, float]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    stretch_killed: set[int] = field(default_factory=set)  # rows the stretch pushed past their --time (TIMEOUT)


class PlacementSimulation:
    """One run: jobs, a NodeBook (with or without a selector), a profile and a predictor."""

    def __init__(
        self,
        jobs: list[JobSpec],
        book: NodeBook,
        profile: Profile,
        predictor: RuntimePredictor,
        index: TopoIndex,
        stretch: StretchModel | None = None,
        on_start: OnStart | None = None,
        sample_every: float = 3600.0,
        frag_level: int = 1,
        frag_column: int | None = None,
        tick: float = 0.0,
    ) -> None:
        self.jobs = list(jobs)
        self.base = [j.runtime or 0.0 for j in jobs]
        self.finish: dict[int, float] = {}  # when each started job ends (its stage-in included)
        self.killed: set[int] = set()  # ended at a --time-min cut: the scheduler's TIMEOUT, not learned
        self.timed_out: set[int] = set()  # killed at their own --time by the stretch: a TIMEOUT, learned as one
        self.book = book
        self.sched = Scheduler(book, book.table.space, profile, predictor)
        self.profile = profile
        self.index = index
        self.stretch = stretch
        self.on_start = on_start
        self.sample_every = sample_every
        self.frag_level = frag_level
        self.frag_column = frag_column
        self.tick = tick  # > 0: also run a cycle every `tick` s while jobs wait (time-relaxed constraints)

    def _frag(self) -> float:
        free, cap = self.book.free, self.book.table.capacity
        if self.frag_column is None:
            units = (free == cap).all(axis=1).astype(np.int64)
            return fragmentation(self.index, self.frag_level, units, np.ones_like(units))
        col = self.frag_column
        return fragmentation(self.index, self.frag_level, free[:, col], cap[:, col])

    def run(self) -> PlacementOutcome:
        jobs, n = self.jobs, len(self.jobs)
        index = {j.job_id: i for i, j in enumerate(jobs)}
        out = PlacementOutcome(
            submit=np.array([j.submit_time for j in jobs], dtype=np.float64),
            start=np.full(n, np.nan),
            end=np.full(n, np.nan),
            base_run=np.array(self.base, dtype=np.float64),
            nodes=np.zeros(n, dtype=np.int64),
            leaves=np.zeros(n, dtype=np.int64),
            level=np.zeros(n, dtype=np.int64),
            units=np.zeros(n, dtype=np.float64),
        )
        events = EventQueue()
        events.load_submissions([(j.submit_time, i) for i, j in enumerate(jobs)])
        sched = self.sched
        next_sample, ticking = 0.0, False
        while len(events):
            now, kind, i = events.pop()
            job = jobs[i]
            if i < 0:
                ticking = False
            elif kind == SUBMIT:
                try:
                    sched.submit(job, now)
                except Rejected as exc:
                    out.rejected.append(str(exc))
                    continue
            elif kind == END:
                self._ends(job.job_id, 0.0)
                sched.finish(job.job_id, now, ok=i not in self.timed_out, learn=i not in self.killed)
            else:
                self._correct(events, i, now)
            if kind == CORRECT and events.peek() == (now, CORRECT):
                continue  # the engine's contract: extend every overrun of this instant before a cycle
            plan = sched.cycle(now)
            for placement in plan.starts:
                self._start(placement, index[placement.job_id], events, out)
            if self.tick > 0 and not ticking and len(sched.queue):
                events.push(now + self.tick, CORRECT, -1)
                ticking = True
            if now >= next_sample:
                out.frag.append((now, self._frag()))
                next_sample = now + self.sample_every
        out.stretch_killed = set(self.timed_out)
        return out

    def _ends(self, job_id: int, end: float) -> None:
        """Keep a topology selector's per-node expected ends (end-aligned packing, drain fit) in step."""
        sel = getattr(self.book, "select", None)
        args = getattr(sel, "args", None)
        if sel is None or not (getattr(args, "align_ends", 0.0) or getattr(args, "drain_fit", False)):
            return
        if sel.node_end is None:
            sel.node_end = np.zeros(self.index.n)
        act = self.sched.running.get(job_id)
        if act is not None:
            sel.node_end[np.asarray(act.alloc.nodes, dtype=np.intp)] = end

    def _correct(self, events: EventQueue, i: int, now: float) -> None:
        job = self.jobs[i]
        act = self.sched.running.get(job.job_id)
        if act is None:
            return
        new_end = act.start + extend(now - act.start, job.requested, self.profile.correction)
        new_end = max(new_end, now + 1.0)  # float rounding must not pin the correction to this instant
        self.sched.extend(job.job_id, new_end)
        self._ends(job.job_id, new_end)
        if self.finish[i] > new_end:
            events.push(new_end, CORRECT, i)

    def _start(self, placement: Placement, i: int, events: EventQueue, out: PlacementOutcome) -> None:
        job = self.jobs[i]
        nodes = np.asarray(placement.nodes, dtype=np.intp)
        leaves, level = self.index.span(nodes)
        runtime, cut = self.base[i], False
        if self.stretch is not None:  # cut at the job's --time, as a real scheduler kills it
            runtime, cut = stretched_run(runtime, self.stretch.factor(job.job_id, level), job.requested)
        staged = self.on_start(job, placement.nodes, placement.start) if self.on_start is not None else 0.0
        full, runtime = staged + runtime, staged + self._limited(job, placement, staged, runtime)
        if runtime < full:
            self.killed.add(i)
        elif cut:
            self.timed_out.add(i)
        self.jobs[i] = dataclasses.replace(job, runtime=runtime)
        now = placement.start
        out.start[i], out.end[i] = now, now + runtime
        out.nodes[i], out.leaves[i], out.level[i] = len(nodes), leaves, level
        amounts = self.sched.running[job.job_id].alloc.amounts
        col = self.frag_column
        out.units[i] = float(len(nodes)) if col is None else float(amounts[:, col].sum())
        events.push(now + runtime, END, i)
        self.finish[i] = now + runtime
        end = self._planned(job, placement, staged)
        if staged > 0.0:  # its clock starts once its inputs arrive, as the live controller's (data/launch_clock.py)
            self.sched.running[job.job_id].start = now + staged
            self.sched.extend(job.job_id, end)
        self._ends(job.job_id, end)
        if now + runtime > end:
            events.push(end, CORRECT, i)

    @staticmethod
    def _planned(job: JobSpec, placement: Placement, staged: float) -> float:
        """The planner's end once the inputs arrive ``staged`` s after the start, moved as the live controller moves
        it at the launch (data/launch_clock.py): by the staging time, or for a --time-min cut to where it is killed
        (``_limited``). Planned on the dispatch, a staged job looked to end before its work did, and a correction
        of its overrun, counted from the dispatch, fell before the kill and was pushed on one second at a time."""
        if staged <= 0.0:
            return placement.predicted_end
        if placement.time_limit is None:
            return placement.predicted_end + staged
        return placement.start + staged + max(placement.time_limit - staged, job.time_min or 1.0, 1.0)

    @staticmethod
    def _limited(job: JobSpec, placement: Placement, staged: float, run: float) -> float:
        """The run after a stage-in of ``staged`` s, as the live controller limits it: a limit runs from the launch
        (data/launch_clock.py, as Slurm restarts StartTime when CONFIGURING ends), so the --time the stretch cut
        ``run`` at stands; a --time-min cut loses the stage-in, never below --time-min (staged_cut in
        controller/lowered_limit.py), so the kill stays where the job it was cut for starts."""
        if placement.time_limit is None:
            return run
        return min(run, max(placement.time_limit - staged, job.time_min or 1.0, 1.0))

    def summary(self, out: PlacementOutcome, domain_level: int) -> TopoSummary:
        cap = self.book.table.capacity
        capacity = float(len(cap)) if self.frag_column is None else float(cap[:, self.frag_column].sum())
        return summarize_topology(
            self.index,
            out.nodes,
            out.leaves,
            out.level,
            out.submit,
            out.start,
            out.end,
            out.base_run,
            out.units,
            capacity,
            domain_level,
            out.frag,
            killed=np.isin(np.arange(len(out.start)), sorted(out.stretch_killed)),
        )

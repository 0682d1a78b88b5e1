"""Field-17 links of a replay: a job waits only for a preceding job the replay runs.

The trace's note (hal.sim.workload) says a job whose preceding job is not an earlier job of the replay (skipped or
absent) starts without waiting for it. A job can also leave the replay after its links were made: skipped for its
partition (hal.sim.accounting), outside a --window, or refused by the engine at submission (larger than its
partition). Its dependants start without waiting for it too; they were refused in turn as dependent on an unknown
job, a cascade that emptied whole chains and made the outcome depend on --window (QA).
"""

from __future__ import annotations

import dataclasses

from hal.engine.api import Estimate, RuntimePredictor
from hal.engine.capacity import Book
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.profile import Profile
from hal.engine.queue import Waiting
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace
from hal.sim.simulator import Observer, Simulation, Stretch


def keep_known_deps(jobs: list[JobSpec]) -> list[JobSpec]:
    """The jobs, without dependencies on jobs not among them (skipped, or outside a window's slice)."""
    ids = {j.job_id for j in jobs}
    return [
        j if all(d.job_id in ids for d in j.dependencies)
        else dataclasses.replace(j, dependencies=tuple(d for d in j.dependencies if d.job_id in ids))
        for j in jobs
    ]  # fmt: skip


def unlinked(before: list[JobSpec], after: list[JobSpec]) -> list[int]:
    """The jobs whose dependencies ``keep_known_deps`` cut (``after`` is its answer for ``before``)."""
    return [a.job_id for b, a in zip(before, after, strict=True) if a.dependencies != b.dependencies]


class ReplayScheduler(Scheduler):
    """The engine as a replay drives it: a job refused at submission never runs, so the jobs depending on it are
    submitted without that dependency (they start without waiting for it) instead of being refused as dependent
    on an unknown job. The refused job itself is still refused, and counted so."""

    def __init__(self, book: Book, space: ResourceSpace, profile: Profile, predictor: RuntimePredictor) -> None:
        super().__init__(book, space, profile, predictor)
        self.refused: set[int] = set()

    def submit(self, spec: JobSpec, now: float, estimate: Estimate | None = None) -> Waiting:
        if self.refused and any(d.job_id in self.refused for d in spec.dependencies):
            kept = tuple(d for d in spec.dependencies if d.job_id not in self.refused)
            spec = dataclasses.replace(spec, dependencies=kept)
        try:
            return super().submit(spec, now, estimate)
        except Rejected:
            if spec.job_id not in self.known:  # a second submission of a known id is no refusal of that job
                self.refused.add(spec.job_id)
            raise


class ReplaySimulation(Simulation):
    """A trace replay whose engine lets dependants of refused jobs run (``ReplayScheduler``)."""

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
        super().__init__(jobs, book, space, profile, predictor, sample_every, on_plan, stretch)
        self.sched = ReplayScheduler(book, space, profile, predictor)

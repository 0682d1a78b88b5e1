"""Field-17 links of a replay: a job waits only for a preceding job the replay runs.

The trace's note (hal.sim.workload) says a job whose preceding job is not an earlier job of the replay (skipped or
absent) starts without waiting for it. A job can also leave the replay after its links were made: skipped for its
partition (hal.sim.accounting), outside a --window, or refused by the engine at submission (larger than its
partition). Its dependants start without waiting for it too; they were refused in turn as dependent on an unknown
job, a cascade that emptied whole chains and made the outcome depend on --window (QA).
"""

from __future__ import annotations

import dataclasses

from hal.model.job import JobSpec


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


def without(job: JobSpec, refused: set[int]) -> JobSpec:
    """``job`` without its dependencies on jobs the engine refused at submission (larger than their partition):
    they never run, so it starts without waiting for them instead of being refused as dependent on an unknown job.
    The refused job itself is still refused, and counted so (Simulation.run)."""
    return dataclasses.replace(job, dependencies=tuple(d for d in job.dependencies if d.job_id not in refused))

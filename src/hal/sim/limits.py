"""Time limits in a replay on a cluster file: a partition's ``max_time`` is a limit the trace never had, a what-if
the planner set, so a run longer than it is killed there (TIMEOUT), as Slurm kills a job at its time limit. A run
past the job's own request is replayed as the trace ran it (README, Simulation rules: the site let it run), within
that bound; both are counted for the summary (QA: jobs of 200,000 s ran whole on a partition of 86,400 s, unsaid).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hal.model.cluster import Cluster
from hal.sim.metrics import Summary, summarize
from hal.sim.runner import SimRun, trace_work
from hal.sim.workload import Workload

KILLED_KEY, PAST_KEY = "killed_at_partition_limit", "ran_past_request"


def cut_at_partition_limits(workload: Workload, cluster: Cluster) -> frozenset[int]:
    """Each job whose run is longer than its partition's max_time runs only that long; their ids. A job without a
    request was given that max_time as its limit already (hal.sim.accounting), as a live server gives it."""
    limits = {p.name: p.max_time for p in cluster.partitions if p.max_time is not None}
    killed: set[int] = set()
    jobs = []
    for job in workload.jobs:
        limit = limits.get(job.partition)
        if limit is not None and (job.runtime or 0.0) > limit:
            job = dataclasses.replace(job, runtime=limit)
            killed.add(job.job_id)
        jobs.append(job)
    workload.jobs, workload.cut = jobs, frozenset(killed)
    return workload.cut


def limit_counts(run: SimRun, killed: frozenset[int]) -> dict[str, int]:
    """The summary's counts: jobs killed at their partition's max_time, and started jobs that ran past their own
    request (a known one), replayed as the trace ran them."""
    out = run.outcome
    started = {int(j) for j in out.job_id[out.done]}
    past = sum(
        1
        for job in run.workload.jobs
        if job.job_id in started and job.requested is not None and (job.runtime or 0.0) > job.requested
    )
    return {KILLED_KEY: len(killed & started), PAST_KEY: past}


def useful_summary(run: SimRun, killed: frozenset[int], whole_nodes: bool) -> Summary:
    """The run's summary with the killed jobs' work left out of ``utilization``, as a run the stretch pushed past
    its --time is (killed: its work is lost); ``killed_by_stretch`` stays the stretch's own."""
    out = run.outcome
    if not killed:
        return run.summary
    mask = np.isin(out.job_id, np.fromiter(killed, dtype=np.int64))
    lost = mask if out.stretch_killed is None else mask | out.stretch_killed
    work = trace_work(run.trace, out) if whole_nodes else None
    again = summarize(dataclasses.replace(out, stretch_killed=lost), run.summary.skipped - len(out.rejected), work)
    return dataclasses.replace(
        again, killed_by_stretch=run.summary.killed_by_stretch, wall_seconds=run.summary.wall_seconds
    )

"""`hal submit --test-only` (sbatch --test-only): checks a submission and forecasts when it would start, with
nothing submitted. The forecast is `hal queue --start`'s (an ensemble of forward runs on a clone of the
scheduler, the other jobs on their predictions); the job itself is planned on its time limit, as it has no
prediction of its own until it is submitted (asking its predictor would count it as one of the user's jobs).
The nodes it names are the planner's (``planned_nodes``)."""

from __future__ import annotations

from typing import Any

from hal.controller.admission import admit, admit_live, resolve_deps, switches_ignored
from hal.controller.contracts import SubmitError
from hal.controller.directives import JobRequest
from hal.controller.gpu_fix import gpu_fix
from hal.controller.jobs import dependencies, spec_of
from hal.engine.api import Estimate
from hal.engine.backfill import shadow_of
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.partition_choice import holding
from hal.engine.predict.basic import UNLIMITED_PLAN
from hal.engine.request import request_of
from hal.executors.hostlist import compress


def test_only(ctl: Any, req: JobRequest, user: str) -> dict[str, Any]:
    """What sbatch --test-only reports (the job id it would get, its start, processors and partition), plus
    the p90 start; raises the errors a real submission would."""
    admit(req, ctl.machine.cluster)
    switches_ignored(req, ctl.profile.placement)
    now = ctl.clock()
    with ctl.lock:
        admit_live(req, ctl.staging, ctl.live, user)
        deps = resolve_deps(ctl.store, req.dependencies)
        job_id = ctl.next_id
        spec = spec_of(job_id, req, user, now, dependencies(deps))
        request = request_of(spec, ctl.table.space)
        if (why := ctl._impossible(request)) is not None:
            raise SubmitError(f"job can never run on this cluster: {why}{gpu_fix(req, request, ctl.book)}")
        snap = ctl.sched.clone()  # with history: the clone is given this one submission
        forecaster = ctl.board.forecaster.fork()
    limit = spec.time_limit or UNLIMITED_PLAN
    try:
        snap.submit(spec, now, Estimate(limit, limit))
    except Rejected as exc:
        raise SubmitError(str(exc)) from None
    est = forecaster.starts(snap, now, wanted=[job_id]).get(job_id)
    p50, p90 = est.finite() if est is not None else (None, None)
    nodes = planned_nodes(snap, job_id, now)
    names = [ctl.machine.cluster.nodes[i].name for i in nodes]
    part = holding(spec.partition, ctl.table.partition_tiers, ctl.machine.members, names) if names else spec.partition
    return {
        "test_only": True,
        "job_id": job_id,
        "start": p50,
        "start_p90": p90,
        "cpus": spec.procs,
        "nodes": compress(names) if names else None,
        "partition": part,  # -p a,b: the one whose nodes it is planned on, as sbatch names one
        "notes": req.notes,
    }


def planned_nodes(snap: Scheduler, job_id: int, now: float) -> tuple[int, ...]:
    """The nodes sbatch --test-only names (``on nodes gpu[01-06]``): where the next cycle starts the job, else
    where the planner holds it (conservative backfill's slot), else where it first fits as the running jobs end,
    as Slurm's will-run test finds them; none for a job held (a --begin, dependencies). Runs a cycle on ``snap``,
    the controller's copy made for this test: the forecast has been taken from it already."""
    for placed in snap.cycle(now).starts:
        if placed.job_id == job_id:
            return tuple(int(i) for i in placed.nodes)
    slot = snap.slots.get(job_id)
    alloc = slot[2] if slot is not None else None
    item = snap.queue.get(job_id)
    if alloc is None and item is not None:
        alloc = shadow_of(snap, item)[2]
    return tuple(int(i) for i in alloc.nodes) if alloc is not None else ()

"""`hal submit --test-only` (sbatch --test-only): checks a submission and forecasts when it would start, with
nothing submitted. The forecast is `hal queue --start`'s (an ensemble of forward runs on a clone of the
scheduler, the other jobs on their predictions); the job itself is planned on its time limit, as it has no
prediction of its own until it is submitted (asking its predictor would count it as one of the user's jobs)."""

from __future__ import annotations

from typing import Any

from hal.controller.admission import admit, admit_live, resolve_deps
from hal.controller.contracts import SubmitError
from hal.controller.directives import JobRequest
from hal.controller.gpu_fix import gpu_fix
from hal.controller.jobs import dependencies, spec_of
from hal.engine.api import Estimate
from hal.engine.cycle import Rejected
from hal.engine.request import request_of

UNLIMITED_PLAN = 365 * 86400.0  # a job without a time limit is planned as if it held its nodes for a year


def test_only(ctl: Any, req: JobRequest, user: str) -> dict[str, Any]:
    """What sbatch --test-only reports (the job id it would get, its start, processors and partition), plus
    the p90 start; raises the errors a real submission would."""
    admit(req, ctl.machine.cluster)
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
    return {
        "test_only": True,
        "job_id": job_id,
        "start": p50,
        "start_p90": p90,
        "cpus": spec.procs,
        "partition": spec.partition,
        "notes": req.notes,
    }

"""Whether this server's data plane can ever serve a pending job: one that reads or writes datasets on a server
started without a ``[data]`` table, or whose input is larger than every node cache (``cache_bytes`` made smaller),
is parked (hal/controller/parked.py) with the reason instead of failing: it stays PENDING until a restart on a
cluster file whose data plane can serve it, as jobs a smaller cluster file cannot run do. Submission still refuses
both; a restart used to fail such jobs, held ones too, or let them start and fail at their stage-in."""

from __future__ import annotations

from typing import Any

NO_DATA_PLANE = "NoDataPlane"  # the pending reason (squeue's NODELIST(REASON)) of a data job with no data plane
TOO_LARGE = "DatasetTooLarge"  # ... of one whose inputs no node cache can hold
DATA_REASONS = (NO_DATA_PLANE, TOO_LARGE)
NO_PLANE_WHY = "it reads or writes datasets, and this server has no data plane (no [data] table in its cluster file)"


def data_misfit(ctl: Any, spec: Any) -> tuple[str, str] | None:
    """(reason, why) this server can never stage ``spec``'s datasets, or None (under the controller's lock). An
    input not in the catalog yet is not judged here: a job will write it, or its reader fails at stage-in."""
    if not (spec.inputs or spec.outputs):
        return None
    if ctl.staging is None:
        return NO_DATA_PLANE, NO_PLANE_WHY
    if spec.inputs:
        why = ctl.staging.refuse(list(spec.inputs), set(spec.inputs))  # all "produced": sizes alone are judged
        if why is not None:
            return TOO_LARGE, why
    return None


def data_fix(cause: str, job: object) -> str | None:
    """What makes a job parked for its data run (`hal show`'s Why=, `hal explain`), from its cause; None when it
    was parked for another reason. `hal update` cannot help it: its datasets are not a field it changes."""
    if NO_PLANE_WHY in cause:
        need = "restores the [data] table in the cluster file"
    elif "larger than every node cache" in cause:
        need = "gives the node caches room for it (cache_bytes in the cluster file's [data] table)"
    else:
        return None
    return f"an administrator {need} and restarts the server (it is tried again then); hal cancel {job} ends it"


def retry_parked(ctl: Any) -> int:
    """The data plane turned on after the records were recovered (``enable`` called after ``recover``): the jobs
    parked for want of it are tried again, as a restart with it would. How many."""
    with ctl.lock:
        waiting = [jid for jid, parked in ctl.parked.jobs.items() if parked.reason in DATA_REASONS]
        now = ctl.clock()
        for jid in waiting:
            ctl._to_engine(ctl.live[jid], now)  # out of the parked set, into the engine if it fits now
    return len(waiting)

"""Whether this server's data plane can ever serve a pending job: one that reads or writes datasets on a server
started without a ``[data]`` table, or whose input is larger than every node cache (``cache_bytes`` made smaller),
is parked (hal/controller/parked.py) with the reason instead of failing: it stays PENDING until a restart on a
cluster file whose data plane can serve it, as jobs a smaller cluster file cannot run do. So is one whose input the
catalog no longer knows (its file moved away or misspelt in [data]): it runs once the dataset is registered again
(`hal dataset add`, tried again each pass) or the catalog restored. Submission still refuses all three; a restart
used to fail such jobs, held ones too, or let them start and fail at their stage-in."""

from __future__ import annotations

from typing import Any

from hal.model.job import DependencyKind

NO_DATA_PLANE = "NoDataPlane"  # the pending reason (squeue's NODELIST(REASON)) of a data job with no data plane
TOO_LARGE = "DatasetTooLarge"  # ... of one whose inputs no node cache can hold
UNKNOWN = "UnknownDataset"  # ... of one whose input is in no catalog entry, and no job will write it
DATA_REASONS = (NO_DATA_PLANE, TOO_LARGE, UNKNOWN)
NO_PLANE_WHY = "it reads or writes datasets, and this server has no data plane (no [data] table in its cluster file)"
UNKNOWN_WHY = "not in the catalog, and no queued or running job writes"  # in the cause of an UnknownDataset job


def data_misfit(ctl: Any, spec: Any) -> tuple[str, str] | None:
    """(reason, why) this server can never stage ``spec``'s datasets, or None (under the controller's lock). An
    input not in the catalog that a job may still write (an unfinished job declares it, or one the job waits for has
    not settled) is not judged here: if it is never published, its reader fails at stage-in."""
    if not (spec.inputs or spec.outputs):
        return None
    if ctl.staging is None:
        return NO_DATA_PLANE, NO_PLANE_WHY
    why = unknown_why(ctl, spec)
    if why is not None:  # the catalog moved away or misspelt at a restart (the server's log names its path)
        return UNKNOWN, why
    if spec.inputs:
        why = ctl.staging.refuse(list(spec.inputs), set(spec.inputs))  # all "produced": sizes alone are judged
        if why is not None:
            return TOO_LARGE, why
    return None


def data_fix(cause: str, job: object) -> str | None:
    """What makes a job parked for its data run (`hal show`'s Why=, `hal explain`), from its cause; None when it
    was parked for another reason. `hal update` cannot help it: its datasets are not a field it changes."""
    if UNKNOWN_WHY in cause:
        them = "them" if "its inputs " in cause else "it"
        return (
            f"an administrator registers {them} again (hal dataset add; the job is tried again at once), or restores "
            f"the catalog file the cluster file's [data] table names and restarts the server; hal cancel {job} ends it"
        )
    if NO_PLANE_WHY in cause:
        need = "restores the [data] table in the cluster file"
    elif "larger than every node cache" in cause:
        room = "cache_dir on a larger disk" if "the size of the disk" in cause else "cache_bytes"
        need = f"gives the node caches room for it ({room} in the cluster file's [data] table)"
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


def declared_outputs(ctl: Any) -> set[str]:
    """Every dataset an unfinished job declares as its output: one it may still write (under the controller's lock)."""
    return {name for lv in ctl.live.values() for name in lv.spec.outputs}


def unknown_why(ctl: Any, spec: Any, declared: set[str] | None = None) -> str | None:
    """Why ``spec`` waits for the catalog, naming every input it does not know (QA: only the first was named, and
    the cause never changed as they were registered), or None. ``declared``: ``declared_outputs``, when the caller
    asks for many jobs at once (built once, not once per job)."""
    gone = _unknown(ctl, spec, declared)
    if len(gone) == 1:
        return f"its input {gone[0]!r} is {UNKNOWN_WHY} it"
    return f"its inputs {', '.join(map(repr, gone))} are {UNKNOWN_WHY} them" if gone else None


def _unknown(ctl: Any, spec: Any, declared: set[str] | None) -> list[str]:
    """``spec``'s inputs no catalog entry holds and no job may still write: none is declared as an unfinished job's
    output or being staged out, and every job it waits for has ended with its outputs settled (the engine's
    outcome known: a writer it waits for may still publish it). A job whose afterok dependency failed keeps that
    reason (DependencyNeverSatisfied: its writer never published the input)."""
    if not spec.inputs:
        return []
    for dep in spec.dependencies:
        ok = ctl.sched.outcomes.get(dep.job_id)
        if ok is None or (ok is False and dep.kind is DependencyKind.AFTEROK):
            return []
    missing = ctl.staging.uncataloged(list(spec.inputs))
    if not missing:
        return []
    outputs = ctl.staging.outputs
    coming = outputs.in_flight(missing) if outputs is not None else set()
    coming |= (declared_outputs(ctl) if declared is None else declared).intersection(missing)
    return [n for n in missing if n not in coming]

"""Parked jobs: pending jobs the cluster no longer fits (a restart on a smaller or different cluster file, its
data plane gone, its node caches too small for their inputs or its catalog without their inputs: hal/data/fit.py).
As Slurm keeps them, they stay PENDING with its reason instead of failing, never start, and are tried again
when that could change: at the next start (the cluster file) and when `hal update` changes the job.
Submission and `hal update` still refuse a request the cluster can never run. Every job reaches the engine
through ``hand_over``, which tells such refusals from the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from hal.data.fit import DATA_REASONS, UNKNOWN, data_fix, data_misfit, declared_outputs, unknown_why
from hal.executors.hostlist import compress

log = logging.getLogger("hal.controller")

PARKED = "no longer fits this cluster: "  # the cause of a parked job, before the engine's words
FITS_AGAIN = "fits this cluster again"  # its cause once a restart or an update made it fit


@dataclass(frozen=True, slots=True)
class Parked:
    reason: str  # Slurm's pending reason (squeue's NODELIST(REASON), scontrol's Reason=)
    why: str  # the engine's words: the limit the job breaks


@dataclass(slots=True)
class ParkedJobs:
    """The parked jobs (in the controller's ``live``, unknown to the engine), and the causes not yet stored: they
    are found inside other transactions (restart, update, requeue), so the next pass writes them."""

    jobs: dict[int, Parked] = field(default_factory=dict)
    unsaved: dict[int, str] = field(default_factory=dict)
    stale: set[int] = field(default_factory=set)  # stored as parked before this start, not yet tried again

    def __contains__(self, job_id: object) -> bool:
        return job_id in self.jobs

    def get(self, job_id: int) -> Parked | None:
        return self.jobs.get(job_id)

    def drop(self, job_id: int) -> bool:
        """Out of the parked set (cancelled, held behind its array's %limit, or tried again); whether it was."""
        return self.jobs.pop(job_id, None) is not None


def misfit(ctl: Any, spec: Any) -> str | None:
    """Why the cluster can never run ``spec`` (its data plane's verdict, then the engine's, memoized by shape), or
    None."""
    from hal.engine.request import request_of  # the CLI reads PARKED without loading the engine

    data = data_misfit(ctl, spec)
    if data is not None:
        return data[1]
    try:
        request = request_of(spec, ctl.table.space)
    except ValueError as exc:  # a resource (a GPU type, a GRES) no longer in the cluster file
        return str(exc)
    why: str | None = ctl._impossible(request)
    return why


def hand_over(ctl: Any, live: Any, now: float) -> None:
    """Give a pending job to the engine. One it refuses because the cluster cannot run it is parked; a faulty
    predictor's is planned on its time limit (as Slurm's backfill plans); any other refusal (already submitted,
    a dependency it does not know) fails it on the next pass, as before."""
    from hal.engine.cycle import Rejected  # the CLI reads PARKED without loading the engine
    from hal.engine.predict.basic import UserEstimate

    jid, found = live.job_id, ctl.parked
    tried = found.drop(jid) or jid in found.stale  # parked in this run or before this start: tried again
    found.stale.discard(jid)
    over = time_misfit(ctl, live)  # a partition's MaxTime lowered under it: before the engine, which reads none
    if over is not None:
        _park(found, jid, Parked("PartitionTimeLimit", over))
        return
    data = data_misfit(ctl, live.spec)  # its data plane's verdict first: the engine takes what no cache holds
    if data is not None:
        _park(found, jid, Parked(*data))
        return
    try:
        ctl.sched.submit(live.spec, now)
    except Exception as exc:  # the engine checks before it takes the job: nothing to undo
        why = misfit(ctl, live.spec)
        if why is not None:
            _park(found, jid, Parked(reason_of(ctl, live.spec), why))
            return
        if isinstance(exc, Rejected) or not _on_time_limit(ctl, live, now, UserEstimate().predict(live.spec)):
            log.warning("job %s refused by the engine: %s", jid, exc)
            ctl.refused.append((live, f"refused by the engine: {exc}"))
            return
    if tried:
        found.unsaved[jid] = FITS_AGAIN


def time_misfit(ctl: Any, live: Any) -> str | None:
    """Why no partition ``live`` names lets its time limit run (a MaxTime lowered at a restart; submission and
    `hal update` refuse it), or None. A job of several (-p short,low) keeps only those whose MaxTime allows it, in
    its spec (the engine's choice) and its request (the partition it is said to run in): as admission narrows the
    list, here against this cluster file (QA: it ran in short past short's new limit, rather than in low)."""
    import dataclasses

    from hal.controller.option_values import hms  # the CLI reads PARKED without loading the option parsers

    limits = {p.name: p.max_time for p in ctl.machine.cluster.partitions}
    asked = [p for p in live.spec.partition.split(",") if p]
    limit = live.spec.time_limit  # None: unlimited, which only a partition without a MaxTime runs
    fit = [p for p in asked if limits.get(p) is None or (limit is not None and limit <= limits[p])]
    if not asked or fit == asked:
        return None
    if not fit:
        tops = " or ".join(f"{hms(limits[p])} in partition {p!r}" for p in asked)
        return f"its TimeLimit {hms(limit)} is over its partition's MaxTime: at most {tops}"
    kept = ",".join(fit)
    live.spec = dataclasses.replace(live.spec, partition=kept)
    if live.request.partition != kept:
        live.request = dataclasses.replace(live.request, partition=kept)
    return None


def _park(found: ParkedJobs, jid: int, parked: Parked) -> None:
    found.jobs[jid] = parked
    found.unsaved[jid] = PARKED + parked.why
    log.warning("job %s stays pending: it no longer fits this cluster: %s", jid, parked.why)


def _on_time_limit(ctl: Any, live: Any, now: float, estimate: Any) -> bool:
    """A faulty predictor's job, planned on its time limit instead; False if the engine refuses it even so."""
    log.exception("runtime prediction of job %s failed; it is planned on its time limit", live.job_id)
    try:
        ctl.sched.submit(live.spec, now, estimate)
    except Exception:
        return False
    return True


def reason_of(ctl: Any, spec: Any) -> str:
    """Slurm's reason for a job the cluster cannot run: a partition that is gone (PartitionDown), -w nodes that
    are gone (ReqNodeNotAvail, naming them), more nodes than its partition has (PartitionNodeLimit), else the
    features, sizes or topology it asks for (BadConstraints)."""
    table = ctl.table
    parts = [p for p in spec.partition.split(",") if p]
    if any(p not in table.partition_masks for p in parts):
        return "PartitionDown"
    gone = sorted(set(spec.node_names) - set(table.names))
    if gone:
        return f"ReqNodeNotAvail, UnavailableNodes:{compress(gone)}"
    if spec.nodes is not None:
        size = len(table.names)
        if parts:
            size = len({i for p in parts for i in table.partition_masks[p].nonzero()[0].tolist()})
        if spec.nodes > size:
            return "PartitionNodeLimit"
    return "BadConstraints"


def note_stale(ctl: Any, rows: list[dict[str, Any]]) -> None:
    """At a restart: the pending jobs stored as parked, so those this cluster fits lose that cause."""
    ctl.parked.stale.update(r["id"] for r in rows if str(r.get("cause") or "").startswith(PARKED))


def flush(ctl: Any, now: float) -> None:
    """Store the causes found since the last pass, on jobs still pending (a parked job's, or FITS_AGAIN); first, the
    jobs parked for an input the catalog knows again (`hal dataset add`) are tried again."""
    found = ctl.parked
    if found.jobs:
        recheck_unknown(ctl, now)
    if not found.unsaved:
        return
    todo, found.unsaved = found.unsaved, {}
    todo = {j: c for j, c in todo.items() if j in ctl.live and ctl.live[j].state == "PENDING"}
    rows = {r["id"]: r for r in ctl.store.query(job_ids=list(todo))} if todo else {}
    with ctl.store.engine.begin() as conn:
        for jid, cause in todo.items():
            row = rows.get(jid)
            if row is None or row["state"] != "PENDING" or row.get("cause") == cause:
                continue  # ended meanwhile, or a restart found it as it was
            if cause == FITS_AGAIN and not str(row.get("cause") or "").startswith(PARKED):
                continue  # an update or a hold wrote its own cause since
            ctl.store.update_job(conn, jid, {"cause": cause}, (jid, now, "PENDING", cause))


def recheck_unknown(ctl: Any, now: float) -> int:
    """The jobs parked for inputs the catalog does not know, looked at again (each pass, under the controller's
    lock: a dict lookup per input of the few parked jobs, the live jobs' declared outputs gathered once): tried
    again once it knows them all (`hal dataset add`), else their cause names those still unknown (it kept naming one
    registered since). How many were tried."""
    if ctl.staging is None:
        return 0
    waiting = [(jid, parked) for jid, parked in ctl.parked.jobs.items() if parked.reason == UNKNOWN]
    if not waiting:
        return 0
    declared, back = declared_outputs(ctl), []
    for jid, parked in waiting:
        why = unknown_why(ctl, ctl.live[jid].spec, declared)
        if why is None:
            back.append(jid)
        elif why != parked.why:
            ctl.parked.jobs[jid] = Parked(UNKNOWN, why)
            ctl.parked.unsaved[jid] = PARKED + why
    for jid in back:
        ctl._to_engine(ctl.live[jid], now)
    return len(back)


def undefer(ctl: Any, now: float) -> None:
    """Jobs deferred for a dependency the engine does not know (a task behind its array's %limit, a parked job):
    into the engine once each of theirs is known to it or has ended."""
    for jid, waiting in list(ctl.deferred.items()):
        if jid not in ctl.deferred:
            continue  # taken in by an earlier one's _to_engine
        if all(d.job_id in ctl.sched.known or d.job_id not in ctl.live for d in waiting.spec.dependencies):
            del ctl.deferred[jid]
            ctl._to_engine(waiting, now)


PARKED_REASONS = (
    "PartitionNodeLimit", "PartitionTimeLimit", "PartitionDown", "ReqNodeNotAvail", "BadConstraints", *DATA_REASONS,
)  # fmt: skip


def parked_advice(rec: dict[str, Any]) -> str | None:
    """For a parked job's record as the API returns it: why it waits and what makes it run (`hal show`'s Why=,
    `hal explain`); None for any other job. A held one is told its hold first (a release alone starts nothing)."""
    reason, cause = str(rec.get("reason") or ""), str(rec.get("cause") or "")
    held = reason.startswith("JobHeld")
    if rec.get("state") != "PENDING" or not cause.startswith(PARKED):
        return None
    if not held and reason.split(",")[0] not in PARKED_REASONS:
        return None  # it fits again (its cause is rewritten on the next pass)
    job = rec.get("id", rec.get("job_id"))
    hold = f"it is held (hal release {job}), and " if held else ""
    data = data_fix(cause, job)
    if data is not None:  # no update helps: its datasets are not a field hal update changes
        return f"{hold}it {cause}. {data[0].upper()}{data[1:]}"
    fix = {
        "PartitionNodeLimit": f"hal update {job} NumNodes=N with fewer nodes",
        "PartitionTimeLimit": f"hal update {job} TimeLimit=T within its partition's MaxTime (or Partition=P)",
        "PartitionDown": f"hal update {job} Partition=P to a partition that exists",
        "ReqNodeNotAvail": f"hal update {job} ReqNodeList=... naming nodes that exist",
    }.get(reason.split(",")[0], f"hal update {job} with a request this cluster can run")
    if "topology level" in cause:  # e.g. --topology required=block4 on a cluster that has no block4
        fix = f"hal update {job} Topology=required=LEVEL with a level this cluster has (or Topology=none)"
    elif "--segment" in cause:
        fix = f"hal update {job} Segment=N with segments a block holds (or Segment=0)"
    return (
        f"{hold}it {cause}. {fix} makes it fit; or an administrator restores what it needs in the cluster file and "
        f"restarts the server (it is tried again then); hal cancel {job} ends it"
    )

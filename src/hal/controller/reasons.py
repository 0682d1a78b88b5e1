"""Why a pending job waits, as squeue's REASON shows it: holds first, then the controller's own gates (an
array's %limit, dependencies on jobs it has not handed to the engine, a cluster that no longer fits it), then
the engine's verdict."""

from __future__ import annotations

from typing import Any

from hal.controller.cache_forecast import cache_why
from hal.controller.parked import PARKED
from hal.engine.plugins.placement_explain import topology_reason
from hal.executors.hostlist import compress

FORECAST_NODES = "forecast_nodes"  # a pending row's: where the forecast run of its p50 starts it


def pending_reason(ctl: Any, job_id: int) -> str:
    lv = ctl.live.get(job_id)
    if lv is not None and lv.spec.held:  # before its %limit or dependencies: a hold wins
        return "JobHeldAdmin" if lv.request.hold_admin else "JobHeldUser"
    if job_id in ctl.gated:
        return "JobArrayTaskLimit"
    if job_id in ctl.deferred:
        return "Dependency"
    parked = ctl.parked.get(job_id)
    if parked is not None:  # the cluster file changed under it (hal/controller/parked.py)
        return str(parked.reason)
    if job_id in ctl.sched.known:
        spec = lv.spec if lv is not None else None
        down = [n for n in spec.node_names if n in ctl.drained] if spec is not None else []
        if down:  # it asked for nodes an administrator drained (-w)
            return f"ReqNodeNotAvail, UnavailableNodes:{compress(down)}"
        if spec is not None and (spec.switches or spec.segment or spec.topology_required):
            # drains first: "Topology" says free nodes exist, while only an administrator's resume helps (QA)
            drained = drain_reason(ctl, job_id)
            return drained or str(topology_reason(ctl.sched, job_id) or ctl.sched.reason_of(job_id).value)
        reason = str(ctl.sched.reason_of(job_id).value)
        if reason in ("Resources", "Priority", "Topology"):  # no forecast start either: say why (QA); Topology
            return drain_reason(ctl, job_id) or reason  # too: a block layout alone can leave only drained nodes
        return reason
    return "None"


def drain_reason(ctl: Any, job_id: int) -> str | None:
    """Slurm's ReqNodeNotAvail naming the drained nodes the job may use, when only their drain keeps it from
    ever fitting (its switches, segments or required level included), else None."""
    item = ctl.sched.queue.get(job_id) if ctl.drained else None
    if item is None or not ctl.book.drain_blocks(item.req):
        return None
    allowed = ctl.book.allowed(item.req)
    down = [n for n, ok in zip(ctl.table.names, allowed, strict=True) if ok and n in ctl.drained]
    return f"ReqNodeNotAvail, UnavailableNodes:{compress(down)}"


def annotate(ctl: Any, rows: list[dict[str, Any]], start: bool = False) -> list[dict[str, Any]]:
    """Reasons and queue places of pending rows; with ``start``, forecast starts (a listing without them
    planned the whole queue forward and took tens of seconds with thousands of pending jobs) and
    ``forecast_pending``: whether the job's forecast is still being made in the background (the listing did not
    wait for it), so a user can tell "ask again in a moment" from "no forecast" (N/A). A running row gets
    ``completing``: a cancel or requeue asked it to stop and its processes have the grace period to go (SIGTERM,
    then SIGKILL), which squeue shows at once as Slurm's COMPLETING (CG). A flag beside ``state``, not a state:
    the stored RUNNING is what accounting, hal history (sacct has no CG) and fair share read until it ends."""
    pending = {r["id"] for r in rows if r["state"] == "PENDING"}
    starts = ctl.board.estimates(ctl, pending) if pending and start else {}  # p50/p90 (see StartBoard)
    coming = ctl.board.uncovered(pending, starts) if pending and start else set()
    with ctl.lock:
        places = ctl.sched.positions() if pending else {}
        for r in rows:
            if r["state"] == "PENDING":
                r["queue_position"] = places.get(r["id"])  # None: held back (dependency, hold, begin)
                r["reason"] = ctl.reason(r["id"]) if ctl.staging is None else ctl.staging.reason_of(r, ctl)
                if str(r["reason"]).startswith("CacheWait"):  # what holds the room: a kept failed output, say so
                    r["cache_held"] = cache_why(ctl, r["id"], ctl.clock())
                est = starts.get(r["id"])
                p50, p90 = (ctl.sched.reservations.get(r["id"]), None) if est is None else est.finite()
                r["predicted_start"], r["predicted_start_p90"] = p50, p90
                r[FORECAST_NODES] = est.nodes if est is not None else ()  # SCHEDNODES beyond the planner's own
                if start:  # a held job gets no forecast: never "still being computed"
                    r["forecast_pending"] = r["id"] in coming and not str(r["reason"]).startswith("JobHeld")
                parked = ctl.parked.get(r["id"])
                if parked is not None:  # its cause is stored on the next pass: shown at once
                    r["cause"] = PARKED + parked.why
            elif r["state"] == "RUNNING":
                if ctl.staging is not None and r["id"] in ctl.staging.staging:
                    r["state"] = "CONFIGURING"  # holds its nodes while its inputs arrive: Slurm's CF
                r["completing"] = r["id"] in ctl.cancelling or r["id"] in ctl.requeueing  # stopping: CG
    return rows

"""Why a pending job waits, as squeue's REASON shows it: holds first, then the controller's own gates (an
array's %limit, dependencies on jobs it has not handed to the engine), then the engine's verdict."""

from __future__ import annotations

from typing import Any

from hal.engine.plugins.placement_explain import topology_reason
from hal.executors.hostlist import compress


def pending_reason(ctl: Any, job_id: int) -> str:
    lv = ctl.live.get(job_id)
    if lv is not None and lv.spec.held:  # before its %limit or dependencies: a hold wins
        return "JobHeldAdmin" if lv.request.hold_admin else "JobHeldUser"
    if job_id in ctl.gated:
        return "JobArrayTaskLimit"
    if job_id in ctl.deferred:
        return "Dependency"
    if job_id in ctl.sched.known:
        spec = lv.spec if lv is not None else None
        down = [n for n in spec.node_names if n in ctl.drained] if spec is not None else []
        if down:  # it asked for nodes an administrator drained (-w)
            return f"ReqNodeNotAvail, UnavailableNodes:{compress(down)}"
        if spec is not None and (spec.switches or spec.segment or spec.topology_required):
            return str(topology_reason(ctl.sched, job_id) or ctl.sched.reason_of(job_id).value)
        reason = str(ctl.sched.reason_of(job_id).value)
        item = ctl.sched.queue.get(job_id) if ctl.drained and reason in ("Resources", "Priority") else None
        if item is not None and ctl.book.drain_blocks(item.req):  # no forecast start either: say why (QA)
            down = [
                n for n, ok in zip(ctl.table.names, ctl.book.allowed(item.req), strict=True) if ok and n in ctl.drained
            ]
            return f"ReqNodeNotAvail, UnavailableNodes:{compress(down)}"
        return reason
    return "None"

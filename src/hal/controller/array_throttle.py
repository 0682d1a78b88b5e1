"""`hal update ArrayTaskThrottle=N` (scontrol's): how many of an array's tasks may run at once, changed while
it runs; its %limit gate is the one sbatch --array=...%N made (controller/holds.py keeps the gates)."""

from __future__ import annotations

from typing import Any

from hal.controller.holds import admit_waiting, gate_of
from hal.controller.jobs import Live


def throttle(ctl: Any, lives: list[Live], limit: int, now: float) -> None:
    """ArrayTaskThrottle=N (None: no limit): how many of the array's tasks may run at once. Running tasks go
    on; queued ones over the new limit step back behind it (the highest task ids first)."""
    for array_id in {lv.array_job_id for lv in lives if lv.array_job_id is not None}:
        gate = gate_of(ctl, array_id, limit or 0)
        gate.limit = limit if limit is not None else 2**31 - 1
        queued = [
            j for j, o in ctl.live.items()
            if o.array_job_id == array_id and j in ctl.sched.known and j not in ctl.sched.running
        ]  # fmt: skip
        for jid in sorted(queued, reverse=True)[: max(gate.inflight - gate.limit, 0)]:
            ctl.sched.withdraw(jid)
            gate.inflight -= 1
            gate.waiting.appendleft(jid)
            ctl.gated.add(jid)
        admit_waiting(ctl, gate, now)

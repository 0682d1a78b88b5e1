"""A job whose inputs were staged starts when they arrive: its clock (StartTime, the limit, the planner's end) moves
from the dispatch to the launch, as Slurm resets StartTime when CONFIGURING ends."""

from __future__ import annotations

import dataclasses
from typing import Any

from hal.controller.lowered_limit import staged_cut


def start_clock(controller: Any, job_id: int, now: float) -> float | None:
    """Its inputs arrived: the job starts now, as Slurm resets StartTime when CONFIGURING ends. The time
    limit runs from the launch, so the planner's end and the records move by the staging time (Elapsed
    exceeded Timelimit on jobs that completed, and reservations behind them slipped). A --time-min cut stays
    where it was: its limit, returned for the launch, is shortened by the staging time instead."""
    act = controller.sched.running.get(job_id)
    if act is None or now <= act.start:
        return None
    staged, end = now - act.start, act.predicted_end + (now - act.start)
    lv = controller.live.get(job_id)
    with controller.store.engine.begin() as conn:
        cut = staged_cut(conn, lv, staged) if lv is not None else {}
        if cut:
            limit = float(cut["time_limit"])
            act.item = dataclasses.replace(act.item, spec=dataclasses.replace(act.item.spec, time_limit=limit),
                                           estimate=limit, upper=limit)  # fmt: skip
            end = now + limit
        act.start = now
        controller.sched.extend(job_id, end)
        event = (job_id, now, "RUNNING", f"inputs staged in {staged:.0f} s; started")
        controller.store.update_job(conn, job_id, {"start_time": now, "predicted_end": end, **cut}, event)
    return float(cut["time_limit"]) if cut else None

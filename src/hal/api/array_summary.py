"""An array job as one record: where the array as a whole is, and, once it has ended, its worst task's exit."""

from __future__ import annotations

from collections import Counter
from typing import Any

ACTIVE = ("RUNNING", "CONFIGURING", "STAGE_OUT", "PENDING")  # the first of these a task is in is the array's


def array_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An array job as one record: its tasks, and a state that says where the array as a whole is."""
    first = dict(records[0])
    first.pop("attempts", None)  # its first task's: they stay with that task
    states = Counter(r["state"] for r in records)
    for state in ACTIVE:
        if states.get(state):
            first["state"] = state
            break
    else:
        bad = [s for s in states if s != "COMPLETED"]
        first["state"] = bad[0] if bad else "COMPLETED"
    if first["state"] not in ACTIVE:  # ended: its worst task's exit and its last end (QA: task 0's exit code
        worst = max(
            records, key=lambda r: (r["state"] == first["state"], r.get("exit_code") or 0, r.get("signal") or 0)
        )
        first.update({k: worst[k] for k in ("exit_code", "signal", "reason") if k in worst})  # 0 beside FAILED)
        first["end_time"] = max((r["end_time"] for r in records if r.get("end_time") is not None), default=None)
    first["id"] = str(first["array_job_id"])
    first["task_states"] = dict(states)
    first["tasks"] = records
    return first

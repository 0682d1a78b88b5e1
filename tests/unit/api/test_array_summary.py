"""An ended array's one record carries its worst task's exit and its last end (SDK QA: FAILED beside task 0's exit
code 0, so a workflow engine reading exit_code saw success)."""

from __future__ import annotations

from typing import Any

from hal.api.array_summary import array_summary


def _task(k: int, state: str, code: int, end: float) -> dict[str, Any]:
    return {"array_job_id": 44, "array_task_id": k, "state": state, "exit_code": code, "signal": 0,
            "reason": None if code == 0 else "NonZeroExitCode", "end_time": end}  # fmt: skip


def test_an_ended_array_shows_its_worst_exit_and_last_end() -> None:
    tasks = [_task(0, "COMPLETED", 0, 10.0), _task(1, "FAILED", 1, 30.0), _task(2, "COMPLETED", 0, 20.0)]
    got = array_summary(tasks)
    assert (got["state"], got["exit_code"], got["reason"], got["end_time"]) == ("FAILED", 1, "NonZeroExitCode", 30.0)


def test_a_running_array_keeps_its_first_task_fields() -> None:
    tasks = [_task(0, "COMPLETED", 0, 10.0), {**_task(1, "RUNNING", 0, 0.0), "end_time": None}]
    assert array_summary(tasks)["state"] == "RUNNING" and array_summary(tasks)["end_time"] == 10.0

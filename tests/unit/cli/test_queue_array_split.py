"""squeue's array lines: a pending task Slurm has split into its own job record (changed by itself, or requeued
after it ran) is listed on its own line; the rest of its array that waits for the same reason stays one line."""

from __future__ import annotations

from typing import Any

from hal.api.views import record
from hal.cli.queue import collapse_arrays
from hal.controller.array_split import is_split, on_its_own


def _task(t: int, **kw: Any) -> dict[str, Any]:
    return {"id": f"12_{t}", "job_id": 12 + t, "array_job_id": 12, "array_task_id": t, "state": "PENDING",
            "reason": "Priority", **kw}  # fmt: skip


def test_split_tasks_keep_their_own_lines() -> None:
    jobs = [_task(t) for t in range(10)]
    jobs[7] = _task(7, array_split=True)  # hal update 12_7 TimeLimit=...
    jobs[2] = _task(2, restarts=1)  # ran, and was requeued
    got = [(j["id"], j["reason"]) for j in collapse_arrays(jobs)]
    assert got == [("12_[0-1,3-6,8-9]", "Priority"), ("12_2", "Priority"), ("12_7", "Priority")]
    assert [j["id"] for j in jobs] == [f"12_{t}" for t in range(10)]  # the records themselves are left alone


def test_a_split_task_listed_before_its_array_s_line_keeps_its_id() -> None:
    jobs = [_task(0, array_split=True), _task(1), _task(2), _task(3, array_split=True)]
    assert [j["id"] for j in collapse_arrays(jobs)] == ["12_0", "12_[1-2]", "12_3"]


def test_the_mark_is_read_from_the_stored_request_without_parsing_it() -> None:
    assert on_its_own("12_7", 12) and on_its_own("12_[3-5]", 12) and on_its_own("19", 12)
    assert not on_its_own("12", 12) and not on_its_own("19", None)
    assert is_split('{"hold":true,"_split":true}') and is_split('{"hold": true, "_split": true}')
    assert not is_split('{"script":"echo \\"_split\\": true","env":{"_split":"true"}}')  # inside strings: not it
    row = {"id": 19, "array_job_id": 12, "array_task_id": 7, "state": "PENDING", "request": '{"_split":true}'}
    assert record(row, 0.0)["array_split"] is True
    assert record({**row, "array_job_id": None}, 0.0)["array_split"] is False

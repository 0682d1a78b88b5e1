"""`hal show 12_[2-3]` shows each task of the list (QA MEDIUM: it showed the first alone and exited 0, and
12_[4-1] was blamed on an --array option no one gave)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build
from hal.client import HalError
from hal.controller.task_lists import task_list

TASK: dict[str, Any] = {
    "name": "t", "user": "al", "account": "", "qos": "normal", "state": "COMPLETED", "reason": None,
    "cause": "ended", "exit_code": 0, "signal": None, "restarts": 0, "requeue": False, "elapsed": 1.0,
    "time_limit": 300.0, "submit_time": 1000.0, "start_time": 1001.0, "end_time": 1002.0, "partition": "batch",
    "nodelist": "n001", "req_tasks": 1, "req_cpus": 1, "req_nodes": 1, "alloc_cpus": 1, "workdir": "/w",
    "stdout_path": "/w/o", "stderr_path": "/w/o", "array_job_id": 3,
}  # fmt: skip
TASKS = [{**TASK, "id": f"3_{i}", "job_id": 2 + i, "array_task_id": i} for i in range(1, 5)]


def show(monkeypatch: pytest.MonkeyPatch, ref: str) -> tuple[int, list[str], str]:
    asked: list[str] = []

    class Fake(contextlib.AbstractContextManager["Fake"]):
        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, job: str, start: bool = False) -> dict[str, Any]:
            """As the server answers: an array's tasks, or those of a task list that exist."""
            asked.append(job)
            if job == "3":
                return {**TASKS[0], "id": "3", "tasks": TASKS}
            listed = task_list(job)
            picked = [t for t in TASKS if listed is not None and t["array_task_id"] in listed[1]]
            if not picked:
                raise HalError(404, f"no job {job}")
            return {**picked[0], "id": job, "tasks": picked}

        def nodes(self) -> dict[str, Any]:
            return {"nodes": []}

    monkeypatch.setattr("hal.cli.live.Client", Fake)  # the real client(): a server error exits 1, said
    got = CliRunner().invoke(build(["show"]), ["show", ref])
    shown = [line.split()[2] for line in got.stdout.splitlines() if line.startswith("JobId=")]
    assert asked in ([], [ref]), asked  # the server answers a task list itself
    return got.exit_code, shown, " ".join(got.stderr.split())


@pytest.mark.parametrize(
    ("ref", "tasks"),
    [("3_[2-3]", [2, 3]), ("3_[1-4]", [1, 2, 3, 4]), ("3_[4,1]", [1, 4]), ("3_[0-8:2]", [2, 4])],
)
def test_each_task_of_the_list_is_shown(monkeypatch: pytest.MonkeyPatch, ref: str, tasks: list[int]) -> None:
    code, shown, _ = show(monkeypatch, ref)
    assert code == 0 and shown == [f"ArrayTaskId={i}" for i in tasks]


def test_tasks_the_array_lacks_are_said_and_none_at_all_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    code, shown, said = show(monkeypatch, "3_[4-6]")
    assert code == 0 and shown == ["ArrayTaskId=4"] and "no task 3_5, 3_6" in said
    code, shown, said = show(monkeypatch, "3_[7-9]")
    assert code == 1 and shown == [] and "no job 3_[7-9]" in said


@pytest.mark.parametrize("ref", ["3_[4-1]", "3_[]", "3_[1-2%1]", "3_[a]"])
def test_a_list_that_names_no_tasks_is_refused_in_its_own_terms(monkeypatch: pytest.MonkeyPatch, ref: str) -> None:
    code, shown, said = show(monkeypatch, ref)
    assert code == 2 and shown == [] and "--array" not in said
    assert f"'{ref}' does not name array tasks: give them as 3_[1-4]" in said, said

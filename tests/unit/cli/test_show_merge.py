"""`hal show ARRAY` shows the pending tasks that differ only in their ids as one record (ArrayTaskId=3-9999), as
scontrol shows an array's unsplit part (QA: 10,000 pending tasks printed 160,000 lines); started tasks and tasks
changed on their own keep their own records."""

from __future__ import annotations

from typing import Any

from hal.cli import show as show_cli
from hal.cli.show_merge import records
from tests.unit.cli.test_show import JOB

PENDING = {"state": "PENDING", "reason": "Priority", "nodelist": "", "start_time": None, "array_job_id": 5}


def _task(i: int, **changes: Any) -> dict[str, Any]:
    return {**JOB, **PENDING, "id": f"5_{i}", "job_id": 5 + i, "array_task_id": i, "queue_position": i + 1, **changes}


def test_alike_pending_tasks_are_one_record_and_the_others_their_own() -> None:
    running = {**_task(0), "state": "RUNNING", "reason": None, "nodelist": "vn000", "start_time": 1100.0}
    tasks = [running, *(_task(i) for i in range(1, 5)), _task(5, nice=10), *(_task(i) for i in (6, 7, 9))]
    shown = records(tasks, show_cli._lines)
    heads = [lines[0].split(" JobName")[0] for lines in shown]
    assert heads == [
        "JobId=5 ArrayJobId=5 ArrayTaskId=0",
        "JobId=6 ArrayJobId=5 ArrayTaskId=1-4",
        "JobId=10 ArrayJobId=5 ArrayTaskId=5",  # its own Nice
        "JobId=11 ArrayJobId=5 ArrayTaskId=6-7,9",
    ], heads
    assert "QueuePosition=2" in "\n".join(shown[1])  # the run's first task's place
    assert records([_task(3)], show_cli._lines) == [show_cli._lines(_task(3))]  # one task: as before

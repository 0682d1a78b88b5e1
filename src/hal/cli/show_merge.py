"""`hal show ARRAY`: the array's pending tasks that differ only in their ids as one record, `ArrayTaskId=3-9999`,
as scontrol shows the unsplit part of a pending array. Each task had its own record: 10,000 pending tasks printed
160,000 lines (QA). Tasks that started, ended, or were changed on their own keep their own records."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hal.executors.hostlist import ranges

_POSITION = re.compile(r" QueuePosition=\d+")
_TASK = re.compile(r"ArrayTaskId=\S+")


def _rest(lines: list[str]) -> list[str]:
    """A record without what is each task's own: its ids (the first line) and its place in the queue."""
    return [_POSITION.sub("", line) for line in lines[1:]]


def records(tasks: list[dict[str, Any]], lines_of: Callable[[dict[str, Any]], list[str]]) -> list[list[str]]:
    """Each record's lines, in the tasks' order; a run of pending tasks of one array alike but for their ids is one
    record, headed by its first task's JobId and the run's ids (its first task's QueuePosition)."""
    out: list[list[str]] = []
    run: list[tuple[dict[str, Any], list[str]]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0][1])
        elif run:
            ids = ranges(int(j["array_task_id"]) for j, _ in run).strip("[]")
            first = run[0][1]
            out.append([_TASK.sub(f"ArrayTaskId={ids}", first[0], count=1), *first[1:]])
        run.clear()

    for j in tasks:
        lines = lines_of(j)
        if run and _alike(run[0], j, lines):
            run.append((j, lines))
            continue
        flush()
        run.append((j, lines))
    flush()
    return out


def _alike(head: tuple[dict[str, Any], list[str]], j: dict[str, Any], lines: list[str]) -> bool:
    first, first_lines = head
    pending = first["state"] == j["state"] == "PENDING"
    same_array = first.get("array_job_id") is not None and first.get("array_job_id") == j.get("array_job_id")
    return pending and same_array and _rest(first_lines) == _rest(lines)

"""Job lists keep a task list's commas whole: `hal history -j 3_[1,3],5`, `hal hold 3_[1,3]` and
`hal update 3_[1,3] ...` sent `3_[1` and `3]`, two refs the server refused, as scontrol and sacct do not."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build

TASK: dict[str, Any] = {
    "name": "t", "user": "al", "account": "", "qos": "normal", "state": "COMPLETED", "reason": None,
    "cause": "ended", "exit_code": 0, "signal": None, "restarts": 0, "requeue": False, "elapsed": 1.0,
    "time_limit": 300.0, "submit_time": 1000.0, "start_time": 1001.0, "end_time": 1002.0, "partition": "batch",
    "nodelist": "n001", "req_tasks": 1, "req_cpus": 1, "req_nodes": 1, "alloc_cpus": 1, "workdir": "/w",
    "stdout_path": "/w/o", "stderr_path": "/w/o", "array_job_id": 3, "comment": "",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("12,13_2,14_[1,3-5]", ["12", "13_2", "14_[1,3-5]"]),
        (" 3_[2-3] , 4 ,", ["3_[2-3]", "4"]),
        ("3_[1,3],3_[1,3]", ["3_[1,3]"]),
        ("", []),
    ],
)
def test_split_refs(text: str, refs: list[str]) -> None:
    from hal.cli.job_refs import split_refs

    assert split_refs(text) == refs


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    class Fake(contextlib.AbstractContextManager["Fake"]):
        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, job: str, **_: Any) -> dict[str, Any]:
            calls.append(("get", job))
            return {**TASK, "id": job, "tasks": [{**TASK, "id": "3_1", "job_id": 3, "array_task_id": 1}]}

        def hold(self, job: str) -> list[int]:
            calls.append(("hold", job))
            return [3]

        release = requeue = hold

        def update_notes(self, job: str, **fields: str) -> dict[str, Any]:
            calls.append(("update", job))
            return {"updated": [3], "notes": []}

        def whoami(self) -> dict[str, Any]:
            return {"user": "al", "admin": False}

    monkeypatch.setattr("hal.cli.live.Client", Fake)
    got = CliRunner().invoke(build([args[0]]), list(args))
    assert got.exit_code == 0, got.output
    return got.exit_code, calls


def test_history_hold_and_update_send_a_task_list_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    _, calls = run(monkeypatch, "history", "-j", "3_[1,3],5")
    assert calls == [("get", "3_[1,3]"), ("get", "5")]
    _, calls = run(monkeypatch, "hold", "3_[1,3]")
    assert calls[0] == ("hold", "3_[1,3]")
    _, calls = run(monkeypatch, "update", "3_[1,3],4", "Comment=x")
    assert calls == [("update", "3_[1,3]"), ("update", "4")]

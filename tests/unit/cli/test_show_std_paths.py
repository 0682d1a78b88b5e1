"""`hal show` prints a pending job's StdOut/StdErr as the API names them, and scontrol's StdIn= line (QA LOW:
it printed `StdOut=(not started)`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build

PENDING: dict[str, Any] = {
    "id": "7", "job_id": 7, "array_job_id": None, "name": "t", "user": "al", "account": "", "qos": "normal",
    "state": "PENDING", "reason": "JobHeldUser", "cause": "held", "exit_code": None, "signal": None, "restarts": 0,
    "requeue": False, "elapsed": 0.0, "time_limit": 300.0, "submit_time": 1000.0, "start_time": None,
    "end_time": None, "partition": "batch", "nodelist": "", "req_tasks": 1, "req_cpus": 1, "req_nodes": 1,
    "alloc_cpus": 0, "workdir": "/w", "stdout_path": "/w/slurm-7.out", "stderr_path": "/w/e-%N.err",
    "stdin_path": "/dev/null",
}  # fmt: skip


def shown(monkeypatch: pytest.MonkeyPatch, record: dict[str, Any]) -> str:
    """`hal show 7` printed for ``record``, from a client that answers with it."""

    class Fake:
        def get(self, job: str, start: bool = False) -> dict[str, Any]:
            return dict(record)

        def priority(self) -> dict[str, Any]:
            return {"jobs": []}

        def nodes(self) -> dict[str, Any]:
            return {"nodes": []}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.show.client", client)
    got = CliRunner().invoke(build(["show"]), ["show", "7"])
    assert got.exit_code == 0, got.output
    return str(got.stdout)


def test_a_pending_jobs_paths_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [line.strip() for line in shown(monkeypatch, PENDING).splitlines()]
    std = [line for line in lines if line.startswith("Std")]
    assert std == ["StdOut=/w/slurm-7.out", "StdErr=/w/e-%N.err", "StdIn=/dev/null"]

"""hal history -j A,B with the server down printed the headers and exited 0 (QA): each unreachable job was
skipped as if it were unknown, so a script read "server down" as "no such jobs"."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build
from hal.client import HalError


def history(monkeypatch: pytest.MonkeyPatch, status: int, *args: str) -> Any:
    class Fake(contextlib.AbstractContextManager["Fake"]):
        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, job: str, **_: Any) -> dict[str, Any]:
            if job == "7":
                return {"id": "7", "job_id": 7, "name": "x", "state": "COMPLETED", "exit_code": 0, "signal": 0}
            raise HalError(status, "no such job" if status == 404 else "cannot reach the HAL server")

        def whoami(self) -> dict[str, Any]:
            return {"user": "al", "admin": False}

    monkeypatch.setattr("hal.cli.live.Client", Fake)
    return CliRunner().invoke(build(["history"]), ["history", *args])


def test_an_unreachable_server_fails_the_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    down = history(monkeypatch, 0, "-j", "560,564", "--json")
    assert down.exit_code != 0 and '"jobs": []' not in down.stdout, down.output
    assert "cannot reach" in down.output


def test_an_unknown_job_among_others_is_said_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    got = history(monkeypatch, 404, "-j", "7,8", "-n", "-o", "JobID,State")
    assert got.exit_code == 0, got.output
    assert got.stdout.split() == ["7", "COMPLETED"] and "job 8: no such job" in got.stderr

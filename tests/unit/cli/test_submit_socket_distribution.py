"""sbatch's --gpus-per-socket and -m/--distribution: accepted with a note on the command line and in #SBATCH lines,
as --gpu-bind and --gres-flags are (QA: `hal submit --gpus-per-socket=1` and `-m block` said "No such option")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build
from hal.controller.directives import build_request


class FakeClient:
    def __init__(self) -> None:
        self.options: dict[str, Any] = {}

    def submit(self, script: str, **kwargs: Any) -> dict[str, Any]:
        self.options = kwargs["options"]
        return {"job_id": 5, "notes": []}


def submit(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, FakeClient]:
    fake = FakeClient()

    @contextlib.contextmanager
    def client() -> Iterator[FakeClient]:
        yield fake

    monkeypatch.setattr("hal.cli.submit.client", client)
    return CliRunner().invoke(build(["submit"]), ["submit", *args, "--wrap", "true"]), fake


@pytest.mark.parametrize(
    ("words", "sent"),
    [
        (["--gpus-per-socket=1"], {"gpus-per-socket": "1"}),
        (["--gpus-per-socket", "2"], {"gpus-per-socket": "2"}),
        (["-m", "block"], {"distribution": "block"}),
        (["-mcyclic:block"], {"distribution": "cyclic:block"}),
        (["-m", "block", "-s", "-M", "c1"], {"distribution": "block", "oversubscribe": True, "clusters": "c1"}),
    ],
)
def test_the_command_line_takes_them(monkeypatch: pytest.MonkeyPatch, words: list[str], sent: dict[str, Any]) -> None:
    got, fake = submit(monkeypatch, *words)
    assert got.exit_code == 0, got.output
    assert {k: fake.options.get(k) for k in sent} == sent


def test_a_script_takes_them_with_a_note() -> None:
    script = "#!/bin/sh\n#SBATCH --gpus-per-socket=1 -m block:cyclic\ntrue\n"
    req = build_request(script, {}, {}, "/", 0.0)
    assert req.notes == ["accepted but not acted on by HAL: --distribution, --gpus-per-socket"]

"""sbatch: the command line's --requeue/--no-requeue replaces SBATCH_REQUEUE/SBATCH_NO_REQUEUE (review: the
environment's was added beside it, and the server refused the pair as contradicting each other)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build


def _sent(monkeypatch: pytest.MonkeyPatch, words: list[str]) -> dict[str, Any]:
    got: dict[str, Any] = {}

    class Fake:
        def submit(self, text: str, **kw: Any) -> dict[str, Any]:
            got.update(kw["options"])
            return {"job_id": 1}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.submit.client", client)
    done = CliRunner().invoke(build(["submit"]), ["submit", *words])
    assert done.exit_code == 0, done.output
    return got


@pytest.mark.parametrize(("env", "flag", "kept"), [("SBATCH_REQUEUE", "--no-requeue", "no-requeue"),
                                                   ("SBATCH_NO_REQUEUE", "--requeue", "requeue")])  # fmt: skip
def test_the_command_line_replaces_the_environments_choice(
    monkeypatch: pytest.MonkeyPatch, env: str, flag: str, kept: str
) -> None:
    monkeypatch.setenv(env, "1")
    sent = _sent(monkeypatch, [flag, "--wrap", "true"])
    assert kept in sent and ({"requeue", "no-requeue"} - {kept}).isdisjoint(sent), sent

"""sbatch: the command line's --requeue/--no-requeue replaces SBATCH_REQUEUE/SBATCH_NO_REQUEUE (review: the
environment's was added beside it, and the server refused the pair as contradicting each other)."""

from __future__ import annotations

import pytest

from .submit_probe import sent


@pytest.mark.parametrize(("env", "flag", "kept"), [("SBATCH_REQUEUE", "--no-requeue", "no-requeue"),
                                                   ("SBATCH_NO_REQUEUE", "--requeue", "requeue")])  # fmt: skip
def test_the_command_line_replaces_the_environments_choice(
    monkeypatch: pytest.MonkeyPatch, env: str, flag: str, kept: str
) -> None:
    monkeypatch.setenv(env, "1")
    got = sent(monkeypatch, [flag, "--wrap", "true"])
    assert kept in got and ({"requeue", "no-requeue"} - {kept}).isdisjoint(got), got

"""QA: `SBATCH_REQ_SWITCH=abc hal submit ...` was refused as "--switches='abc' is not a whole number", an option
never typed. A bad value from sbatch's environment variables is refused naming the variable, before any server is
asked; the command line's own --switches keeps its name."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app

NO_SERVER = {"HAL_URL": "http://127.0.0.1:9", "HAL_TOKEN": "x"}  # nothing listens there: refused before asking


def said(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    got = CliRunner().invoke(
        app,
        ["submit", "-H", "-N", "2", *args, "--wrap", "sleep 1"],
        env={**NO_SERVER, "HAL_HOME": str(tmp_path), **env},
    )
    return got.exit_code, " ".join(got.stderr.split())


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SBATCH_REQ_SWITCH": "abc"}, "SBATCH_REQ_SWITCH='abc' is not a whole number"),
        ({"SBATCH_REQ_SWITCH": "abc@5"}, "SBATCH_REQ_SWITCH='abc' is not a whole number"),
        ({"SBATCH_REQ_SWITCH": "2@"}, "SBATCH_REQ_SWITCH=2@: give the wait after @"),
        (
            {"SBATCH_REQ_SWITCH": "2", "SBATCH_WAIT4SWITCH": "soon"},
            "SBATCH_WAIT4SWITCH='soon': a switch wait is a time",
        ),
    ],
)
def test_a_bad_value_from_the_environment_names_its_variable(tmp_path: Path, env: dict[str, str], words: str) -> None:
    code, err = said(tmp_path, env)
    assert code != 0 and words in err and "--switches=" not in err, err


def test_the_wait_variable_is_named_beside_a_typed_count(tmp_path: Path) -> None:
    code, err = said(tmp_path, {"SBATCH_WAIT4SWITCH": "soon"}, "--switches=3")
    assert code != 0 and "SBATCH_WAIT4SWITCH='soon': a switch wait is a time" in err, err


def test_a_typed_count_over_a_bad_variable_is_not_blamed_on_it(tmp_path: Path) -> None:
    """The command line's --switches replaces SBATCH_REQ_SWITCH: its bad value is not the variable's."""
    code, err = said(tmp_path, {"SBATCH_REQ_SWITCH": "abc"}, "--switches=x")
    assert code != 0 and "SBATCH_REQ_SWITCH" not in err, err

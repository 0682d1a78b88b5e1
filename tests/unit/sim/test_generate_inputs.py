"""hal trace generate refuses non-finite and out-of-range numbers (QA: --load nan wrote every submit time 0)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.generate import WorkloadShape


@pytest.mark.parametrize(
    "bad", [{"load": math.nan}, {"load": math.inf}, {"load": 0.0}, {"max_runtime": math.nan}, {"seed": -1}]
)
def test_a_shape_no_workload_can_have_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        WorkloadShape(jobs=10, **bad)


@pytest.mark.parametrize(("option", "value"), [("--load", "nan"), ("--seed", "-1"), ("--procs", "10000000000000")])
def test_the_cli_refuses_them_as_usage_errors(tmp_path: Path, option: str, value: str) -> None:
    out = tmp_path / "g.swf"
    done = CliRunner().invoke(app, ["trace", "generate", str(out), "--jobs", "10", option, value])
    assert done.exit_code == 2 and "Invalid value for" in done.output and not out.exists(), done.output

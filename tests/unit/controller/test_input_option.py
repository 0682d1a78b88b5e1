"""sbatch's -i/--input: read from #SBATCH lines, the command line (over the script's) and SBATCH_INPUT, kept
apart from HAL's --input-data, and named as --output is (relative paths under the working directory)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from hal.cli.main import build
from hal.cli.submit import input_environment
from hal.controller.directives import JobRequest, build_request
from hal.controller.option_values import DirectiveError
from hal.executors.jobenv import input_file, input_path
from tests.integration.test_local_executor import make_spec


def _params(*words: str) -> dict[str, object]:
    group = typer.main.get_command(build(["submit"]))
    assert isinstance(group, typer.core.TyperGroup)
    return dict(group.commands["submit"].make_context("submit", list(words)).params)


def test_script_lines_and_the_command_line() -> None:
    assert build_request("#!/bin/sh\n#SBATCH -i in.txt\ncat\n", {}, {}, "/w", 0.0).input == "in.txt"
    assert build_request("#!/bin/sh\n#SBATCH -iin-%j.txt\ncat\n", {}, {}, "/w", 0.0).input == "in-%j.txt"
    script = "#!/bin/sh\n#SBATCH --input=data/in-%a.txt --input-data=ds\ncat\n"
    req = build_request(script, {}, {}, "/w", 0.0)
    assert (req.input, req.inputs) == ("data/in-%a.txt", ["ds"])  # not the dataset option
    assert build_request(script, {"input": "/abs/other"}, {}, "/w", 0.0).input == "/abs/other"  # the CLI wins
    assert build_request("#!/bin/sh\ncat\n", {}, {}, "/w", 0.0).input == ""  # /dev/null
    with pytest.raises(DirectiveError, match="--input contains a NUL byte"):
        build_request("#!/bin/sh\ncat\n", {"input": "a\x00b"}, {}, "/w", 0.0)
    with pytest.raises(DirectiveError, match="--input needs a value"):
        build_request("#!/bin/sh\n#SBATCH --input\ncat\n", {}, {}, "/w", 0.0)


def test_a_request_stored_before_it_loads() -> None:
    old = build_request("#!/bin/sh\ncat\n", {}, {}, "/w", 0.0).to_dict()
    del old["input"]
    assert JobRequest.from_dict(old).input == ""


def test_hal_submit_takes_i_and_sbatch_input() -> None:
    assert _params("-i", "in.txt", "--wrap", "cat")["input_file"] == "in.txt"
    assert _params("--input=in-%j.txt", "job.sh")["input_file"] == "in-%j.txt"
    assert _params("--input-data", "ds", "job.sh")["input_file"] is None
    assert input_environment({"SBATCH_INPUT": "in.txt"}) == {"input": "in.txt"}


def test_named_as_output_is(tmp_path: Path) -> None:
    assert input_file("", "/w", 7, "n", "u", None, None, None) == "/dev/null"
    assert input_file("in-%j-%x-%N.txt", "/w", 7, "n", "u", None, None, None) == "/w/in-7-n-%N.txt"
    assert input_file("/d/%A_%a.%N", "/w", 7, "n", "u", 5, 2, "vn1") == "/d/5_2.vn1"
    spec = make_spec(9, "#!/bin/sh\ncat\n", tmp_path, stdin="in-%j-%%.txt")
    assert input_path(spec) == tmp_path / "in-9-%.txt"
    assert input_path(make_spec(9, "#!/bin/sh\ncat\n", tmp_path)) is None

"""sbatch refuses a script whose first line is not "#!interpreter" (it ran under sh whatever was meant): hal
submit says so before sending it, and the server refuses one submitted through the API; --wrap builds its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.controller.directives import NOT_A_SCRIPT, build_request, wrap_script
from hal.controller.option_values import DirectiveError


@pytest.mark.parametrize(
    "script",
    ["echo hi\n", "#SBATCH -n 1\necho hi\n", "\n#!/bin/sh\necho hi\n", " #!/bin/sh\necho hi\n", "import os\n"],
)
def test_the_server_refuses_a_script_without_an_interpreter_line(script: str) -> None:
    with pytest.raises(DirectiveError) as exc:
        build_request(script, {}, {}, "/tmp", 0.0)
    assert str(exc.value) == NOT_A_SCRIPT
    assert "The first line must start with #! followed by the path to an interpreter" in NOT_A_SCRIPT


def test_scripts_with_an_interpreter_and_wrap_are_accepted() -> None:
    assert build_request("#!/bin/bash\necho hi\n", {}, {}, "/tmp", 0.0).script.startswith("#!/bin/bash")
    assert build_request("#!/usr/bin/env python3\nprint(1)\n", {}, {}, "/tmp", 0.0).name == ""
    assert build_request(wrap_script("echo hi"), {}, {}, "/tmp", 0.0).script.startswith("#!/bin/sh\n")


def test_hal_submit_refuses_it_before_asking_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No server runs here: the refusal comes first (HAL_URL points nowhere)."""
    monkeypatch.setenv("HAL_URL", "http://127.0.0.1:9")
    job = tmp_path / "job.sh"
    job.write_text("#SBATCH -n 1\necho hi\n")
    result = CliRunner().invoke(app, ["submit", str(job)])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2, said
    assert "This does not look like a batch script. The first line must start with #!" in said
    assert "For instance: #!/bin/sh" in said
    piped = CliRunner().invoke(app, ["submit"], input="echo from stdin\n")
    assert piped.exit_code == 2 and "does not look like a batch script" in piped.stderr

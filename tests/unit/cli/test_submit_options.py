"""hal submit's command line reads sbatch's forms that click alone does not: --exclusive[=VALUE]."""

from __future__ import annotations

import typer

from hal.cli.main import build
from hal.cli.submit import input_environment, switch_wait


def _params(*words: str) -> dict[str, object]:
    group = typer.main.get_command(build(["submit"]))
    assert isinstance(group, typer.core.TyperGroup)
    return dict(group.commands["submit"].make_context("submit", list(words)).params)


def test_exclusive_takes_a_value_after_equals_only() -> None:
    """QA: --exclusive=user was refused ("does not take a value"); a bare --exclusive must not eat the script."""
    got = _params("--exclusive=user", "-N", "2", "job.sh", "--exclusive=x")
    assert (got["exclusive_mode"], got["script"], got["script_args"]) == ("user", "job.sh", ("--exclusive=x",))
    got = _params("--exclusive", "job.sh")  # the script's own words are never rewritten
    assert (got["exclusive"], got["exclusive_mode"], got["script"]) == (True, None, "job.sh")
    assert _params("-J", "--exclusive=topo", "--wrap", "true")["job_name"] == "--exclusive=topo"  # a value
    assert _params("--exclusive=", "--wrap", "true")["exclusive_mode"] == ""  # sent on: the server refuses it
    assert input_environment({"SBATCH_EXCLUSIVE": "topo"}) == {"exclusive": "topo"}
    assert input_environment({"SBATCH_EXCLUSIVE": "1"}) == {"exclusive": True}
    # QA: sbatch's SBATCH_REQ_SWITCH and SBATCH_WAIT4SWITCH were ignored
    assert input_environment({"SBATCH_REQ_SWITCH": "2@1:00"}) == {"switches": "2@1:00"}
    for given, env, expect in [
        ("2", {"SBATCH_WAIT4SWITCH": "5:00"}, "2@5:00"),  # the command line's count, the environment's wait
        ("2@0:45", {"SBATCH_WAIT4SWITCH": "5:00"}, "2@0:45"),  # the command line's own wait wins
        ("2@1:00", {"SBATCH_REQ_SWITCH": "2@1:00", "SBATCH_WAIT4SWITCH": "2:00"}, "2@2:00"),  # read after it
    ]:
        options: dict[str, str | bool] = {"switches": given}
        switch_wait(options, env)
        assert options["switches"] == expect, (given, env)


def test_wait4switch_replaces_the_scripts_wait() -> None:
    """sbatch reads the environment over #SBATCH lines: SBATCH_WAIT4SWITCH sets the wait of the script's count."""
    script = "#!/bin/bash\n#SBATCH -N 4 --switches=2@1:00\nsrun true\n"
    options: dict[str, str | bool] = {}
    switch_wait(options, {"SBATCH_WAIT4SWITCH": "10:00"}, script)
    assert options == {"switches": "2@10:00"}
    options = {}
    switch_wait(options, {}, script)  # nothing in the environment: the script's line stands, read by the server
    assert options == {}
    options = {}
    switch_wait(options, {"SBATCH_WAIT4SWITCH": "10:00"}, "#!/bin/bash\n#SBATCH --bogus\n")
    assert options == {}  # a script the server will refuse is left for it to name

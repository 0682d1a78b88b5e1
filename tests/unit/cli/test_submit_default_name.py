"""hal submit's default job name, as sbatch's: the script's file name unless the command line, SBATCH_JOB_NAME
or an #SBATCH line the server reads names it; "sbatch" for a script on standard input (QA: a regex over every
line took an #SBATCH -J after the first command, or a -J inside a --comment, as naming the job: no name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .submit_probe import sent


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("echo first\n#SBATCH -J late\n", "s.sh"),  # after the first command: sbatch does not read it
        ('#SBATCH --comment="run with -J off"\ntrue\n', "s.sh"),  # a -J inside another option's value
        ("#SBATCH --comment '-J x'\ntrue\n", "s.sh"),
        ("#SBATCH -J mine\ntrue\n", None),  # the script names itself: the server reads the line
        ("#HAL --job-name=mine\ntrue\n", None),
    ],
)
def test_the_scripts_own_name_is_read_as_the_server_reads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str, expect: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SBATCH_JOB_NAME", raising=False)
    (tmp_path / "s.sh").write_text(f"#!/bin/bash\n{body}")
    assert sent(monkeypatch, ["s.sh"]).get("job-name") == expect


def test_a_script_from_standard_input_is_named_sbatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SBATCH_JOB_NAME", raising=False)
    assert sent(monkeypatch, [], stdin="#!/bin/bash\ntrue\n").get("job-name") == "sbatch"
    assert sent(monkeypatch, [], stdin="#!/bin/bash\n#SBATCH -J mine\ntrue\n").get("job-name") is None
    assert sent(monkeypatch, ["--wrap", "true"]).get("job-name") is None  # the server's "wrap"


def test_sbatch_job_name_ranks_above_the_file_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sbatch: command line > SBATCH_JOB_NAME > #SBATCH > the file name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SBATCH_JOB_NAME", "envname")
    (tmp_path / "s.sh").write_text("#!/bin/bash\n#SBATCH -J mine\ntrue\n")
    (tmp_path / "n.sh").write_text("#!/bin/bash\ntrue\n")
    assert sent(monkeypatch, ["n.sh"])["job-name"] == "envname"
    assert sent(monkeypatch, ["s.sh"])["job-name"] == "envname"  # sent as an option: over the #SBATCH line
    assert sent(monkeypatch, ["-J", "cli", "n.sh"])["job-name"] == "cli"

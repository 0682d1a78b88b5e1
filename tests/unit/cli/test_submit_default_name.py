"""hal submit's default job name, as sbatch's: the script's file name unless the command line, SBATCH_JOB_NAME
or an #SBATCH line the server reads names it; "sbatch" for a script on standard input (QA: a regex over every
line took an #SBATCH -J after the first command, or a -J inside a --comment, as naming the job: no name)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build


def _sent(monkeypatch: pytest.MonkeyPatch, words: list[str], stdin: str | None = None) -> dict[str, Any]:
    """The options hal submit sends for these words."""
    got: dict[str, Any] = {}

    class Fake:
        def submit(self, text: str, **kw: Any) -> dict[str, Any]:
            got.update(kw["options"])
            return {"job_id": 1}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.submit.client", client)
    done = CliRunner().invoke(build(["submit"]), ["submit", *words], input=stdin)
    assert done.exit_code == 0, done.output
    return got


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
    assert _sent(monkeypatch, ["s.sh"]).get("job-name") == expect


def test_a_script_from_standard_input_is_named_sbatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SBATCH_JOB_NAME", raising=False)
    assert _sent(monkeypatch, [], stdin="#!/bin/bash\ntrue\n").get("job-name") == "sbatch"
    assert _sent(monkeypatch, [], stdin="#!/bin/bash\n#SBATCH -J mine\ntrue\n").get("job-name") is None
    assert _sent(monkeypatch, ["--wrap", "true"]).get("job-name") is None  # the server's "wrap"


def test_sbatch_job_name_ranks_above_the_file_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sbatch: command line > SBATCH_JOB_NAME > #SBATCH > the file name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SBATCH_JOB_NAME", "envname")
    (tmp_path / "s.sh").write_text("#!/bin/bash\n#SBATCH -J mine\ntrue\n")
    (tmp_path / "n.sh").write_text("#!/bin/bash\ntrue\n")
    assert _sent(monkeypatch, ["n.sh"])["job-name"] == "envname"
    assert _sent(monkeypatch, ["s.sh"])["job-name"] == "envname"  # sent as an option: over the #SBATCH line
    assert _sent(monkeypatch, ["-J", "cli", "n.sh"])["job-name"] == "cli"

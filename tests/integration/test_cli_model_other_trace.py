"""QA: `predict-eval --model FILE --window 1500:1000` on another trace than the model's took that trace's first
1,500 jobs as learned (both clocks start near 0) and never fed them: 0.484 against 0.586 without the model. The
model file now records which runs it learned; another trace's jobs are fed to it, and the note says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app

SKIPPED = "taken as learned, not fed to it again"
OTHER = "learned other jobs than this trace's 1,500 before the window"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def model(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "m.zip"
    code, said = run("predict-eval", sample, "--window", "0:1500", "--save-model", path, "--json")
    assert code == 0, said
    return path


def other_trace(sample: Path, path: Path) -> Path:
    """The sample's jobs on the same clock under other user numbers (field 12): another site's trace."""
    lines = []
    for line in sample.read_text().splitlines():
        fields = line.split()
        if fields and not line.startswith(";"):
            fields[11] = str(int(fields[11]) + 1000)
            line = " ".join(fields)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_another_traces_earlier_jobs_are_fed_to_the_model(sample: Path, model: Path, tmp_path: Path) -> None:
    other = other_trace(sample, tmp_path / "other.swf")
    code, said = run("predict-eval", other, "--model", model, "--window", "1500:1000", "--json")
    assert code == 0, said
    assert SKIPPED not in said and OTHER in said, said


def test_the_same_trace_still_skips_them(sample: Path, model: Path) -> None:
    code, said = run("predict-eval", sample, "--model", model, "--window", "1500:1000", "--json")
    assert code == 0, said
    assert SKIPPED in said and OTHER not in said and "matched by time alone" not in said, said

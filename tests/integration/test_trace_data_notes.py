"""QA: notes simulate printed were missing in predict-eval (job ids out of submit order, no user ids), an absurd run
time (an end timestamp minus 0) passed every tool without a word, and --save-model on a trace whose ids are not in
submit order learned runs that ended after a job of the next window was submitted. The notes now come from one
module (hal.sim.trace_notes) in every tool."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.trace_notes import LONGEST_RUN

JOB = "{id} {submit} 0 {run} 1 -1 -1 1 5000 -1 1 {user} 1 -1 -1 -1 -1 -1"


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    return said


def write(path: Path, rows: list[tuple[int, int, int, int]]) -> Path:
    path.write_text("; MaxProcs: 4\n" + "\n".join(JOB.format(id=i, submit=s, run=r, user=u) for i, s, r, u in rows))
    return path


@pytest.mark.parametrize("command", [["predict-eval", "{}", "--predictor", "last2"], ["simulate", "{}"],
                                     ["trace", "check", "{}"]])  # fmt: skip
def test_every_tool_names_a_run_longer_than_a_year(tmp_path: Path, command: list[str]) -> None:
    trace = write(tmp_path / "t.swf", [(1, 0, 100, 1), (2, 10, 1_700_000_000, 1), (3, 20, LONGEST_RUN, 1)])
    said = run(*(arg.format(trace) for arg in command))
    assert "1 job(s) have a run time (field 4) longer than a year" in said, said
    assert "line 3: job 2 ran 1,700,000,000 s" in said and "job 3 ran" not in said, said


def test_predict_eval_says_what_simulate_says_of_users_and_ids(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.swf", [(2, 0, 100, -1), (1, 10, 100, -1), (3, 20, 100, -1)])
    said = run("predict-eval", trace, "--predictor", "last2", "--window", "0:2")
    assert "no user ids (field 12 is -1 on every job)" in said, said
    assert "job ids are not in submit order: 1 job(s)" in said and "--window 0:2 counts jobs" in said, said
    said = run("predict-eval", trace, "--predictor", "last2")  # without a window the ids count for nothing
    assert "job ids are not in submit order" not in said, said


def test_save_model_stops_learning_where_a_later_job_was_submitted(sample: Path, tmp_path: Path) -> None:
    """Two ids swapped around the window's end: job 1506 is submitted among the window's last jobs, so a model saved
    from 0:1500 must not have learned a run that ended after it came."""
    lines = sample.read_text().splitlines()
    jobs = [i for i, line in enumerate(lines) if line.strip() and not line.startswith(";")]
    a, b = lines[jobs[1495]].split(), lines[jobs[1505]].split()
    a[0], b[0] = b[0], a[0]
    lines[jobs[1495]], lines[jobs[1505]] = " ".join(a), " ".join(b)
    trace = tmp_path / "swapped.swf"
    trace.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.zip"
    said = run("predict-eval", trace, "--window", "0:1500", "--save-model", model, "--json")
    records = [(int(f[0]), int(f[1])) for f in (lines[i].split() for i in jobs)]
    last = sorted(i for i, _ in records)[1499]  # the window's last id
    later = min(submit for i, submit in records if i > last)  # the first job after the window came then
    with zipfile.ZipFile(model) as zf:
        assert json.loads(zf.read("meta.json"))["learned_until"] < later
    assert f"has learned the runs that ended before t={later:,} s" in said, said
    assert "of the window's jobs were submitted after job" in said, said

"""QA: when a job id repeats, predict-eval kept the record submitted first (the later line) and called the first line
the repeat, while simulate kept the first line: the tools named different jobs by one id. Every tool now keeps an
id's first line, and a --window counts an id by that record."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import read_swf
from hal.sim.window import usable_ids

DUP = """; MaxProcs: 10
1 100 0 50 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1
2 200 0 60 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1
3 1000 0 70 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1
3 500 0 9999 1 -1 -1 1 99999 -1 1 2 1 -1 -1 -1 -1 -1
4 1100 0 80 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1
"""


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    return said


def test_predict_eval_and_simulate_keep_the_same_record(tmp_path: Path) -> None:
    trace = tmp_path / "dup2.swf"
    trace.write_text(DUP)
    said = run("predict-eval", trace, "--predictor", "user", "--csv-out", tmp_path / "d.csv")
    assert "line 5: job 3: the same job id as line 4" in said, said  # was "line 4: ... as line 5"
    scored = {int(r["job_id"]): (r["submit"], r["run"]) for r in csv.DictReader((tmp_path / "d.csv").open())}
    said = run("simulate", trace, "--jobs-out", tmp_path / "d.swf")
    assert "line 5: job 3: the same job id as line 4" in said, said
    ran = {r.job_id: (str(r.submit), str(r.run)) for r in read_swf(tmp_path / "d.swf").records}
    assert scored == ran and scored[3] == ("1000", "70"), (scored, ran)


def test_a_window_counts_an_id_by_the_record_kept(tmp_path: Path) -> None:
    """An id whose first line has no run time is skipped by every tool: a window does not count it either."""
    trace = tmp_path / "t.swf"
    trace.write_text(DUP.replace("3 1000 0 70", "3 1000 0 -1"))
    assert usable_ids(read_swf(trace)) == [1, 2, 4]

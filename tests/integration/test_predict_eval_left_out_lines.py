"""QA: predict-eval only counted the records it left out ("1 record(s) without a run time or processor count left
out"); simulate and trace check name each by line and job, as README promises. The first five are named now."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app

JOB = "{id} {submit} 0 {run} 1 -1 -1 1 5000 -1 1 1 1 -1 -1 -1 -1 -1"


def test_predict_eval_names_the_records_it_leaves_out(tmp_path: Path) -> None:
    rows = [JOB.format(id=i, submit=10 * i, run=-5 if i > 3 else 100) for i in range(1, 11)]
    rows.append(JOB.format(id=2, submit=200, run=50))  # job 2 again, on line 12
    trace = tmp_path / "t.swf"
    trace.write_text("; MaxProcs: 1\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["predict-eval", str(trace), "--predictor", "last2"])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    assert "7 record(s) without a run time or processor count left out" in said, said
    assert "line 5: job 4: run time -5 s" in said and "line 9: job 8: run time -5 s" in said, said
    assert "line 10: job 9" not in said and "... and 2 more" in said, said  # the first five, then a count
    assert "line 12: job 2: the same job id as line 3" in said, said

"""QA: offline replays learned from cancelled runs (SWF status 5), which the live server does not learn
(hal.controller.censored), so `hal history --swf` replayed a different predictor: after two 5 s cancels, predict-eval
predicted the user's next 1,000 s job at 5 s. A replay of HAL's own export now learns what the server learned; an
archive trace's cancels are learned, as the published predictors learn them, and a note says which was done."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app

EXPORT = "; Installation: exported from HAL's accounting records (hal history --swf)\n"
CANC = """; MaxProcs: 10
1 0 0 1000 1 -1 -1 1 2000 -1 1 7 1 1 -1 -1 -1 -1
2 2000 0 1000 1 -1 -1 1 2000 -1 1 7 1 1 -1 -1 -1 -1
3 4000 0 5 1 -1 -1 1 2000 -1 5 7 1 1 -1 -1 -1 -1
4 5000 0 5 1 -1 -1 1 2000 -1 5 7 1 1 -1 -1 -1 -1
5 6000 0 1000 1 -1 -1 1 2000 -1 1 7 1 1 -1 -1 -1 -1
"""


def rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["job_id"]: r for r in csv.DictReader(path.open())}


def test_predict_eval_and_simulate_of_an_export_do_not_learn_a_cancel(tmp_path: Path) -> None:
    trace = tmp_path / "canc.swf"
    trace.write_text(EXPORT + CANC)
    result = CliRunner().invoke(
        app, ["predict-eval", str(trace), "--predictor", "last2", "--csv-out", str(tmp_path / "p.csv")]
    )
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    assert rows(tmp_path / "p.csv")["5"]["predicted"] == "1000", said  # was 5: the two cancels' mean
    assert "2 job(s) are recorded cancelled (status 5)" in said, said
    result = CliRunner().invoke(
        app, ["simulate", str(trace), "--estimate", "last2", "--csv-out", str(tmp_path / "s.csv")]
    )
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    assert rows(tmp_path / "s.csv")["5"]["estimate"] == "1000", said
    assert "2 job(s) are recorded cancelled (status 5)" in said, said


def test_an_archive_traces_cancels_are_learned_as_the_published_predictors_learn_them(tmp_path: Path) -> None:
    trace = tmp_path / "canc.swf"
    trace.write_text(CANC)
    for tool, column in (("predict-eval", "predicted"), ("simulate", "estimate")):
        flag = "--predictor" if tool == "predict-eval" else "--estimate"
        result = CliRunner().invoke(app, [tool, str(trace), flag, "last2", "--csv-out", str(tmp_path / "o.csv")])
        said = " ".join(result.stderr.split())
        assert result.exit_code == 0, said
        assert rows(tmp_path / "o.csv")["5"][column] == "5", said  # the mean of the two cancels' runs
        assert "their run times are learned, as the published predictors" in said, said

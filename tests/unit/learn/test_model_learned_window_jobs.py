"""QA: a model saved from 0:1500 and scored on 1000:500 (or a whole-trace model on 2999:1) was said to have "learned
other jobs than this trace's 1,000 before the window", and they were fed to it a second time: its record of the runs
it learned did not match them because it had also learned jobs of the window. The record is now matched with every
job of the trace it may have learned: the earlier ones are not fed again, and the window's are scored but not learned
twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate, reach_of
from hal.learn.store import load_model, save_model
from tests.unit.learn.conftest import SAMPLE, SMALL

OTHER = "learned other jobs than this trace's"


@pytest.fixture(scope="module")
def first_half(sample_history: History, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    pred = GbmPredictor(SMALL)
    evaluate(sample_history, pred, "kth", (0, 1500), to_save=True)
    path = tmp_path_factory.mktemp("m") / "m1.zip"
    save_model(pred, path)
    return path, pred.completions


def test_a_model_scored_on_a_window_it_learned_learns_no_job_twice(
    sample_history: History, first_half: tuple[Path, int]
) -> None:
    path, learned = first_half
    loaded = load_model(path)
    ev = evaluate(sample_history, loaded, "kth", (1000, 500), reach=reach_of(loaded))
    assert ev.other_jobs == 0 and ev.learned_scored > 0, ev  # was 1,000 "other" jobs, fed again
    assert ev.already_learned + ev.learned_scored == learned
    assert loaded.completions <= 1500 and loaded.learned is not None and loaded.learned.jobs == loaded.completions


@pytest.mark.parametrize(("save", "window"), [(["--window", "0:1500"], "1000:500"), ([], "2999:1")])
def test_the_note_says_they_are_this_traces_jobs(tmp_path: Path, save: list[str], window: str) -> None:
    model = tmp_path / "m.zip"
    runner = CliRunner()
    done = runner.invoke(app, ["predict-eval", str(SAMPLE), *save, "--save-model", str(model), "--json"])
    assert done.exit_code == 0, done.stderr
    done = runner.invoke(app, ["predict-eval", str(SAMPLE), "--model", str(model), "--window", window, "--json"])
    said = " ".join(done.stderr.split())
    assert done.exit_code == 0, said
    assert OTHER not in said and "has learned this trace's jobs that ended by" in said, said
    assert "of the window's own jobs are among them" in said and "results inflated" in said, said

"""QA: a model saved from a predict-eval window had learned runs that ended after later jobs were submitted (a leak
into the next window), and a loaded model continued on a window learned every earlier job a second time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate, reach_of
from hal.learn.store import load_model, save_model
from tests.unit.learn.conftest import SMALL

FIRST = (0, 1500)
REST = (1500, 1500)


def test_a_window_learns_only_runs_ended_before_the_next_job_came(sample_history: History) -> None:
    pred = GbmPredictor(SMALL)
    ev = evaluate(sample_history, pred, "kth", FIRST, to_save=True)
    cut = sample_history.jobs[sum(FIRST)].submit_time
    assert ev.cut == cut
    assert pred.learned_until < cut
    assert pred.completions == int((sample_history.ends[: sum(FIRST)] < cut).sum())
    assert pred.pending, "jobs still running at the cut-off are kept to learn when they end"


def test_a_saved_window_model_continues_as_one_run_would(sample_history: History, tmp_path: Path) -> None:
    first = GbmPredictor(SMALL)
    evaluate(sample_history, first, "kth", FIRST, to_save=True)
    save_model(first, tmp_path / "m1.zip")
    loaded = load_model(tmp_path / "m1.zip")
    reach = reach_of(loaded)
    assert reach is not None
    continued = evaluate(sample_history, loaded, "kth", REST, reach=reach)
    single = evaluate(sample_history, GbmPredictor(SMALL), "kth", REST)
    np.testing.assert_array_equal(continued.predictions, single.predictions)
    assert continued.already_learned == first.completions
    assert loaded.completions == len(sample_history.jobs), "each job learned once"


def test_an_older_leaky_model_skips_only_the_jobs_it_saw(sample_history: History, tmp_path: Path) -> None:
    """A model that learned every run of 0:1500 (as HAL saved them before the cut-off) is continued on 2500:500:
    jobs 1500-2499 were never submitted to it, so they are learned although they ended before its learned_until."""
    old = GbmPredictor(SMALL)
    evaluate(History(sample_history.jobs[:1500], sample_history.ends[:1500]), old, "kth")
    save_model(old, tmp_path / "old.zip")
    loaded = load_model(tmp_path / "old.zip")
    ev = evaluate(sample_history, loaded, "kth", (2500, 500), reach=reach_of(loaded))
    assert ev.already_learned == 1500
    assert loaded.completions == len(sample_history.jobs), "jobs 1500-2999 learned once, 0-1499 not again"

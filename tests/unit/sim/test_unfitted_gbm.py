"""One test of "a gbm that never fitted" behind both the stderr note (sim/runner.py) and the JSON ``fallback``
(cli/sim_json.py): the two were written twice (review), and one changed alone would let them disagree."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hal.cli.sim_json import never_fitted
from hal.cli.tune import gbm_untrained, untrained_json
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import make_predictor
from hal.engine.predict.trees import GbmConfig
from hal.learn.store import load_model, save_model
from hal.model.job import JobSpec
from hal.sim.fallback import unfitted_gbm
from hal.sim.runner import unfitted_note


def test_the_note_and_the_json_agree_on_one_predicate() -> None:
    gbm: Any = make_predictor("gbm")
    assert unfitted_gbm(gbm) is gbm and gbm.model is None
    assert never_fitted(gbm) and unfitted_note(SimpleNamespace(predictor=gbm), "gbm")  # type: ignore[arg-type]
    gbm.model = object()  # fitted
    assert unfitted_gbm(gbm) is None and never_fitted(gbm) is None
    assert unfitted_note(SimpleNamespace(predictor=gbm), "gbm") is None  # type: ignore[arg-type]
    user = make_predictor("user")
    assert unfitted_gbm(user) is None and never_fitted(user) is None


def warmed_up_after_the_last_prediction() -> GbmPredictor:
    """A gbm (warm-up 60) that predicted 60 jobs, then learned all 60: its first fit is due after every prediction."""
    gbm = GbmPredictor(GbmConfig(warmup=60, rounds=5))
    jobs = [JobSpec(job_id=i, submit_time=10.0 * i, time_limit=3600.0, user=f"u{i % 3}") for i in range(60)]
    for j in jobs:
        gbm.predict(j)
    for j in jobs:
        gbm.observe(j, 100.0 + 20 * j.job_id, 1000.0 + 10 * j.job_id)
    return gbm


def test_a_gbm_that_learned_its_whole_warm_up_after_the_last_prediction_is_not_said_to_have_too_few() -> None:
    """QA: a run of exactly the warm-up's jobs said "500 completions < 500". The first fit is due at the last
    completion, which follows every submission: the simulator's trainer fits there and then, and the model would
    plan the next job, but none came."""
    gbm = warmed_up_after_the_last_prediction()
    assert gbm.completions == 60 and gbm.model is None and unfitted_gbm(gbm) is gbm  # every prediction: last2's
    said = never_fitted(gbm)
    assert said == (
        "gbm fitted too late: its first fit, due at completion 60 of the 60 learned, was ready only after the last "
        "prediction; every prediction was last2's"
    )
    note = unfitted_note(SimpleNamespace(predictor=gbm), "gbm")  # type: ignore[arg-type]
    assert note is not None and "fewer than" not in note and "due at completion 60 of the 60 learned" in note
    gbm.predict(JobSpec(job_id=60, submit_time=2000.0, time_limit=3600.0, user="u0"))  # a job after it: the model
    assert gbm.model is not None and unfitted_gbm(gbm) is None and never_fitted(gbm) is None


def test_tune_counts_a_slice_of_exactly_the_warm_up_as_planned_by_last2() -> None:
    """Its only fit comes at the slice's last completion, after every job was submitted: no note was given."""
    assert untrained_json("gbm", 500, 501) == {
        "fallback": "gbm never fitted before the last submission: the training slice has 500 jobs (<= 500, the "
        "completions a first fit needs); every prediction in its runs was last2's"
    }
    said = gbm_untrained("gbm", 500, 501)
    assert said is not None and "(gbm never trained before the last submission)" in said
    assert untrained_json("gbm", 200, 501)["fallback"].startswith("gbm never fitted: the training slice has 200 jobs")
    assert untrained_json("gbm", 501, 501) == {} and gbm_untrained("gbm", 501, 501) is None


def test_a_fit_ready_after_the_last_prediction_is_saved(tmp_path: Path) -> None:
    """A replay of exactly the warm-up's jobs fitted a model no job used yet; --save-model refused it as "too few
    completions" (it read the model installed at the next prediction, and none came)."""
    gbm = warmed_up_after_the_last_prediction()
    save_model(gbm, tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    assert loaded.model is not None and loaded.completions == 60

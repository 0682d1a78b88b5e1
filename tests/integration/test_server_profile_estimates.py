"""A profile tuned in the simulator on predictions: a live server plans with the same ones where it can make them
(gbm-regress is learned live as gbm is), and says why not where it cannot (actual runtimes), planning with the
default (it said only "planning with user")."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import tuned_start_log


def test_a_profile_tuned_on_actual_runtimes_says_what_plans_and_why(tmp_path: Path) -> None:
    text = " ".join(tuned_start_log(tmp_path, "actual").split())
    assert "note: the profile was tuned on actual predictions (actual runtimes are unknown to a live server" in text
    assert "planning with user" in text and "the requested times (user estimates)" in text, text


def test_a_profile_tuned_on_gbm_regress_plans_with_gbm_regress_live(tmp_path: Path) -> None:
    """gbm-regress stood in as gbm live, though the live learner can fit and keep it as it does gbm."""
    text = " ".join(tuned_start_log(tmp_path, "gbm-regress").split())
    assert "note: the profile was tuned" not in text and "runtime predictor gbm-regress from" in text, text
    assert "runtime-model-gbm-regress.zip" in text, text

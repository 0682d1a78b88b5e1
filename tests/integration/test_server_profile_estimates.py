"""A profile tuned in the simulator on predictions a live server cannot make: gbm-regress plans with gbm (the live
learner) and actual with the default, and the note says why (it said only "planning with user")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.livekit import tuned_start_log


@pytest.mark.parametrize(
    ("tuned", "said", "planned"),
    [
        ("gbm-regress", "a live server learns gbm", "runtime predictor gbm from"),
        ("actual", "actual runtimes are unknown to a live server", "the requested times (user estimates)"),
    ],
)
def test_a_profile_tuned_on_an_offline_estimate_says_what_plans_and_why(
    tmp_path: Path, tuned: str, said: str, planned: str
) -> None:
    text = " ".join(tuned_start_log(tmp_path, tuned).split())
    assert f"note: the profile was tuned on {tuned} predictions ({said}" in text, text
    assert f"planning with {'gbm' if tuned == 'gbm-regress' else 'user'}" in text and planned in text, text

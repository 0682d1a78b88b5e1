"""A run of 0 s is scored as the predictors' 1 s floor: min(p, r) / max(p, r) was 0 whatever was predicted, so the
best prediction scored as a wrong one and a trace of failed launches scored 0 (QA)."""

from __future__ import annotations

import numpy as np
import pytest

from hal.learn.evaluate import Scores


def test_a_zero_second_run_scores_as_one_second() -> None:
    pred, real = np.array([1.0, 100.0, 0.0, 50.0]), np.array([0.0, 0.0, 0.0, 100.0])
    s = Scores.of(pred, real)
    assert s.accuracy == pytest.approx((1.0 + 0.01 + 1.0 + 0.5) / 4)
    assert s.under_rate == pytest.approx(0.25) and s.mae == pytest.approx((1 + 100 + 0 + 50) / 4)

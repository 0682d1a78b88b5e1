"""Start-time forecasts scored in a replay of the shipped sample against the starts that happened."""

from __future__ import annotations

import math

from hal.engine.predict.basic import LastTwo, UserEstimate
from hal.engine.profile import Profile
from hal.learn.forecast_eval import replay_with_forecasts
from hal.sim.runner import SimOptions, load
from tests.unit.learn.conftest import SAMPLE


def test_forecasts_are_scored_on_jobs_that_waited() -> None:
    _, workload = load(SAMPLE, SimOptions(window=(0, 1500)))
    got = replay_with_forecasts(workload.jobs, workload.capacity, Profile(backfill_order="sjf"), LastTwo(), 60)
    assert got.jobs > 5
    assert math.isfinite(got.median_ae_p50) and math.isfinite(got.median_ae_request)
    assert 0.0 <= got.within_p90 <= 1.0
    user = replay_with_forecasts(workload.jobs, workload.capacity, Profile(), UserEstimate(), 60)
    assert user.median_ae_p50 == user.median_ae_request  # planning on requests is what users get today

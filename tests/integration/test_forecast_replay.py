"""Start-time forecasts scored in a replay of the shipped sample against the starts that happened."""

from __future__ import annotations

import math

from hal.engine.predict.basic import LastTwo, UserEstimate
from hal.engine.profile import Profile
from hal.learn.forecast_eval import forecast_rows, replay_with_forecasts
from hal.sim.runner import SimOptions, load
from hal.sim.simulator import Simulation, pool_for
from tests.unit.learn.conftest import SAMPLE


def test_forecasts_are_scored_on_jobs_that_waited() -> None:
    _, workload = load(SAMPLE, SimOptions(window=(0, 1500)))
    jobs, cap = workload.jobs, workload.capacity
    rows, sampled, _ = forecast_rows(jobs, cap, Profile(backfill_order="sjf"), LastTwo(), 60, members=8)
    assert sampled >= 60 and len(rows) > 5
    assert all(r.actual > r.submit and r.p50 <= r.p90 and r.point <= r.upper for r in rows)
    assert all(r.submit < r.exact < math.inf for r in rows)  # true runtimes: only later arrivals can differ
    # The replay is the simulator's schedule: every scored start is the one the simulator gives the job.
    out = Simulation(jobs, *pool_for(cap), Profile(backfill_order="sjf"), LastTwo()).run()
    start = dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))
    assert all(start[r.job_id] == r.actual for r in rows)
    user = replay_with_forecasts(jobs, cap, Profile(), UserEstimate(), 60, members=0)
    assert math.isnan(user.median_ae_p50) and user.median_ae_point == user.median_ae_request  # what users get today

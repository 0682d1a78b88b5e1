"""Start-time forecasts scored in a replay of the shipped sample against the starts that happened."""

from __future__ import annotations

import math
from pathlib import Path

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


def test_the_replay_extends_an_overrun_as_the_simulator_does_when_a_job_has_no_request(tmp_path: Path) -> None:
    """QA: a job without a requested time (its limit stands in as its run time) that outlived its prediction was
    extended to that limit in the replay, i.e. to its real end, while the simulator extends it by the correction
    rule; the forecasts were scored on a schedule that knew when the job would end."""
    trace = tmp_path / "fe.swf"
    trace.write_text(
        "; MaxProcs: 4\n"
        "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
        "2 20 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
        "3 40 0 1000 3 -1 -1 3 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"  # no request: outlives its last2 prediction (10 s)
        "4 45 0 100 4 -1 -1 4 100 -1 1 2 1 -1 -1 -1 -1 -1\n"
        "5 950 0 500 1 -1 -1 1 500 -1 1 3 1 -1 -1 -1 -1 -1\n"
    )
    _, workload = load(trace, SimOptions())
    jobs, cap = workload.jobs, workload.capacity
    rows, _, _ = forecast_rows(jobs, cap, Profile(), LastTwo(), samples=5, members=4)
    out = Simulation(jobs, *pool_for(cap), Profile(), LastTwo()).run()
    start = dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))
    assert start[4] == 1450.0 and start[5] == 950.0  # job 5 backfills while job 3 runs on past its prediction
    assert rows and all(start[r.job_id] == r.actual for r in rows)

"""A user whose runs follow her requests is forecast on her requests, not on predictions that do not follow them.

last2 predicts a job by the user's two previous runs, whatever this job asks for: a user who takes about 90% of
requests that vary from 1 to 8 hours has actual/predicted ratios spread over a factor of ten, and a forecast that
scales predictions by them is as spread. Her actual/requested ratios barely move (hal/engine/runtime_draws.py).
Real components: the scheduler, last2 and the forecaster."""

from __future__ import annotations

from dataclasses import replace

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.predict.basic import DEFAULT_LIMIT, LastTwo, UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for

H = 3600.0
REQUESTS = [1 * H, 8 * H, 2 * H, 6 * H, 1 * H, 4 * H, 8 * H, 2 * H]  # she asks what each run needs


def planner(with_requests: bool) -> tuple[Scheduler, Forecaster, float, float]:
    """16 of carol's runs of 90% of their requests; then her 8-hour one runs on the one CPU and bob's job (99)
    waits behind it. Returns the scheduler, the forecaster, now and when her running job will end."""
    s = Scheduler(*pool_for(1), Profile(), LastTwo())
    f = Forecaster(members=20)
    for _ in range(f.min_ratios):
        f.observe(H, 0.5 * H, "others", H if with_requests else None)
    t = 0.0
    for jid, asked in enumerate(REQUESTS * 2, start=1):
        s.submit(JobSpec(jid, t, time_limit=asked, user="carol"), t)
        s.cycle(t)
        predicted, run = s.running[jid].item.estimate, 0.9 * asked
        f.observe(predicted, run, "carol", asked if with_requests else None)
        t += run
        s.finish(jid, t, learn=True)
    s.submit(JobSpec(50, t, time_limit=8 * H, user="carol"), t)
    s.cycle(t)
    s.submit(JobSpec(99, t, time_limit=H, user="bob"), t)
    s.cycle(t)
    return s, f, t + 600.0, t + 0.9 * 8 * H  # forecast 10 minutes into her run


def test_a_user_whose_runs_follow_her_requests_is_forecast_on_them() -> None:
    s, f, now, end = planner(with_requests=True)
    assert s.running[50].item.estimate == 4.5 * H  # last2: her last two runs (1.8 h and 7.2 h), not this request
    got = f.starts(s, now)[99]
    assert abs(got.p50 - end) <= 0.02 * (end - now), (got.p50 - now, end - now)


def test_without_her_requests_the_forecast_scales_the_prediction() -> None:
    s, f, now, end = planner(with_requests=False)  # what was forecast before: ratios to last2's predictions
    assert abs(f.starts(s, now)[99].p50 - end) > 0.2 * (end - now)


def test_her_ratios_to_requests_survive_a_restart_and_a_fork() -> None:
    s, f, now, end = planner(with_requests=True)
    again = Forecaster(members=20)
    again.restore(f.state())
    for other in (again, again.fork()):
        assert abs(other.starts(s, now)[99].p50 - end) <= 0.02 * (end - now)
    older = {k: v for k, v in f.state().items() if k != "asked"}  # a state saved before these ratios existed
    Forecaster().restore(older)


def test_a_job_without_a_known_request_is_drawn_on_its_prediction() -> None:
    """A trace job with no requested time has its run time as a stand-in limit: never a base to draw on."""
    s, f, now, end = planner(with_requests=True)
    s.running[50].item.spec = replace(s.running[50].item.spec, request_known=False)
    assert abs(f.starts(s, now)[99].p50 - end) > 0.2 * (end - now)


def test_a_job_without_a_limit_is_drawn_from_the_users_own_run_times() -> None:
    """QA: a user's 20 s runs under a partition's 480 s default learned ratios of 0.04; her job without a limit
    (planned on the 1-hour stand-in) was then drawn at 0.04 of the hour, 150 s, for runs of 20 s."""
    s = Scheduler(*pool_for(1), Profile(), UserEstimate())
    f = Forecaster(members=20)
    for _ in range(f.min_ratios):
        f.observe(H, 0.5 * H, "others", H)
    for _ in range(16):
        f.observe(480.0, 20.0, "bob", 480.0)
    s.submit(JobSpec(1, 0.0, user="bob"), 0.0)  # no --time, in a partition without a limit
    s.cycle(0.0)
    s.submit(JobSpec(2, 0.0, time_limit=H, user="eve"), 0.0)
    s.cycle(0.0)
    assert s.running[1].item.estimate == DEFAULT_LIMIT
    assert f.starts(s, 5.0)[2].p50 <= 25.0

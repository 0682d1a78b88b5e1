"""A job without a time limit holds its nodes for a year in the plan on requests, as Slurm's squeue --start plans
an unlimited job (and sbatch --test-only's candidate here): planned on its 1-hour default there, a job behind it
was told p90 = p50 = one hour, though nothing bounds when it ends (QA)."""

from __future__ import annotations

from hal.engine.capacity import PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.forward import forward_starts
from hal.engine.predict.basic import DEFAULT_LIMIT, UNLIMITED_PLAN, UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace


def _behind_an_unlimited_job() -> Scheduler:
    s = Scheduler(PoolBook((4, 0, 0)), ResourceSpace(), Profile(), UserEstimate())
    s.submit(JobSpec(job_id=1, submit_time=0, tasks=4, time_limit=None), 0)
    s.cycle(0)
    s.submit(JobSpec(job_id=2, submit_time=10, tasks=4, time_limit=60), 10)
    s.submit(JobSpec(job_id=3, submit_time=10, tasks=4, time_limit=None), 10)
    s.cycle(10)
    return s


def test_the_plan_on_requests_holds_an_unlimited_job_for_a_year() -> None:
    s = _behind_an_unlimited_job()
    assert forward_starts(s, 100.0, "request") == {2: UNLIMITED_PLAN, 3: UNLIMITED_PLAN + 60}
    assert forward_starts(s, 100.0, "point") == {2: DEFAULT_LIMIT, 3: DEFAULT_LIMIT + 60}  # the planner's guess


def test_while_unsure_the_p90_behind_it_is_the_plan_on_requests_not_the_guess() -> None:
    got = Forecaster(floor_until=10).starts(_behind_an_unlimited_job(), 100.0)[2]
    assert (got.p50, got.p90, got.requests) == (DEFAULT_LIMIT, UNLIMITED_PLAN, UNLIMITED_PLAN)


def test_once_calibrated_the_p90_behind_it_is_not_read_off_the_year() -> None:
    """QA: with scores known, a p90 between the ensemble's and the plan on requests (a year behind a job without a
    limit) was put 46 days out for a job that started 4 minutes later: that plan bounds nothing."""
    f = Forecaster(floor_until=10)
    for _ in range(f.min_ratios):
        f.observe(DEFAULT_LIMIT, 600.0, "others")
    f.scores.extend([0.5] * f.min_bin)  # earlier jobs started halfway between their p90s and plans
    got = f.starts(_behind_an_unlimited_job(), 100.0)[2]
    assert got.requests == UNLIMITED_PLAN  # what squeue --start would say is still told
    assert got.p50 <= got.p90 <= 100.0 + 86400.0, got

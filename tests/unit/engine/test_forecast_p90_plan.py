"""The calibrated p90 of start forecasts stays between the ensemble's p90 and the plan on requested limits (Slurm's
squeue --start) unless more than 10% of recent jobs started after their plans, and a wait both agree on is never
widened. QA: a few jobs whose p90 was seconds away but which waited minutes scored actual wait / p90 wait ~25,
and then every p90 was that many times its wait: a --begin time on an idle cluster, a blocker's kill at its
limit. Every forecast here is a real one (forward runs of a real scheduler)."""

from __future__ import annotations

import math

from hal.engine import forecast_scale
from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster, StartEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for

BLOCKER, WAITER = 5.0, 20.0  # what the predictor says of each kind of job (seconds)


class Kinds:
    """Predicts odd job ids (blockers) 5 s and even ones 20 s; learns nothing."""

    name = "kinds"

    def predict(self, job: JobSpec) -> Estimate:
        p = BLOCKER if job.job_id % 2 else WAITER
        return Estimate(p, p)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def machine() -> Scheduler:
    book, space = pool_for(1)
    return Scheduler(book, space, Profile(), Kinds())


def server_forecaster() -> Forecaster:
    """As `hal server` has it (StartBoard): 10 members, no p90 before the plan on requests until 30 scores; runtimes
    known to run exactly as predicted."""
    f = Forecaster(members=10, floor_until=30)
    for _ in range(60):
        f.observe(BLOCKER, BLOCKER)
    return f


def waited_minutes_for_a_p90_seconds_away(f: Forecaster, n: int = 40) -> None:
    """``n`` jobs, each behind a blocker predicted 5 s with a 30-minute limit: forecast to start ~5 s later, they
    started 240 s later (the blocker ran 240 s); their plan on requests was the blocker's kill, 1,800 s later."""
    for k in range(n):
        now, blocker, waiter = 10_000.0 * (k + 1), 2 * k + 1, 2 * k + 2
        s = machine()
        s.submit(JobSpec(blocker, now, time_limit=1800.0), now)
        s.cycle(now)
        s.submit(JobSpec(waiter, now, time_limit=1800.0), now)
        s.cycle(now)
        est = f.starts(s, now)[waiter]
        assert est.p50 == now + BLOCKER  # its plan on requests: the blocker's kill, 1,800 s later
        f.started(waiter, now + 240.0)


def test_a_begin_time_on_an_idle_cluster_is_its_p90() -> None:
    f = server_forecaster()
    waited_minutes_for_a_p90_seconds_away(f)
    assert not f.unsure()
    now, s = 1e6, machine()
    s.submit(JobSpec(1001, now, time_limit=60.0, begin_time=now + 600.0), now)  # hal submit --begin now+600
    s.cycle(now)
    est = f.starts(s, now)[1001]
    assert est.p50 == est.p90 == now + 600.0  # was ~4 hours later (the wait x 25 live, x 48 here)


def test_a_job_waiting_for_a_blocker_killed_at_its_limit_gets_no_p90_past_the_kill() -> None:
    f = server_forecaster()
    waited_minutes_for_a_p90_seconds_away(f)
    now, s = 1e6, machine()
    s.submit(JobSpec(2001, now - 60.0, time_limit=420.0), now - 60.0)  # hal update TimeLimit=7: killed at +360
    s.cycle(now - 60.0)
    s.extend(2001, now + 360.0)  # it outlived its 5 s prediction: planned to its limit, as the controller does
    s.submit(JobSpec(2002, now, time_limit=1800.0), now)
    s.cycle(now)
    est = f.starts(s, now)[2002]
    kill = now - 60.0 + 420.0
    assert now < est.p50 <= est.p90 <= kill  # was 30 minutes past the kill


def test_scores_are_where_starts_fell_between_the_ensembles_p90_and_the_plan() -> None:
    f = server_forecaster()
    waited_minutes_for_a_p90_seconds_away(f)
    assert all(0.1 < x < 0.15 for x in f.scores)  # (240 - 5) / (1800 - 5): bounded, whatever the p90's wait


def test_a_p90_goes_past_the_plan_only_when_more_than_a_tenth_of_jobs_started_after_theirs() -> None:
    raw = {7: StartEstimate(7, 110.0, 130.0, 400.0), 8: StartEstimate(8, 500.0, 500.0, 500.0)}
    f = Forecaster(members=9)
    for job in range(100, 140):  # 3 of 40 started 1.5 ensemble waits (100 s) past their plans, the rest by p90
        f.calibrated(0.0, {job: StartEstimate(job, 10.0, 100.0, 200.0)})
        f.started(job, 350.0 if job in (100, 110, 120) else 100.0)
    got = f.calibrated(100.0, raw)
    assert got == raw  # the 37th smallest of 40 scores (split conformal) is a start by its p90
    for job in range(140, 150):  # now 13 of 50 did
        f.calibrated(0.0, {job: StartEstimate(job, 10.0, 100.0, 200.0)})
        f.started(job, 350.0)
    got = f.calibrated(100.0, raw)
    assert (
        got[7].p90 == 400.0 + 1.5 * forecast_scale.MIN_WAIT
    )  # past its plan by 1.5 ensemble waits (30 s: at least a minute)
    assert got[8].p90 == 500.0 + 1.5 * 400.0  # no spread at all: only the late arrivals' share widens it


def test_saved_scores_of_the_old_kind_are_not_restored() -> None:
    """They were wait ratios (25 in the QA report); read as positions on the new scale they put p90s 24 ensemble
    waits past the plan. The runtime errors are kept; the p90 is the plan on requests until 30 new scores."""
    old = {"ratios": [[2, 1.0]] * 60, "users": {}, "scores": [25.0] * 40, "told": [[5, 100.0, 110.0]]}
    f = Forecaster(floor_until=30)
    f.restore(old)
    assert len(f.ratios) == 60 and not f.scores and not f.told and f.unsure()
    again = Forecaster()
    again.restore(f.state())
    assert math.isinf(f.reach) and len(again.ratios) == 60

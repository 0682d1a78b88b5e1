"""The tuned order, its search, and start-time forecasts from a copy of the scheduler."""

from __future__ import annotations

import numpy as np

from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import forward_starts, start_estimates
from hal.engine.plugins.tuned import Tuned, TunedArgs
from hal.engine.profile import Profile
from hal.learn.tune import outside_starts, rl_key, search
from hal.model.job import JobSpec
from hal.sim.rlscheduler import RlJob, RlSetup, simulate_window
from hal.sim.simulator import pool_for


def test_tuned_age_only_is_fcfs_and_static_without_fairshare() -> None:
    jobs = [RlJob(i, 10 * i + (i % 3), 50 + 7 * (i % 5), 100 + 13 * (i % 7), 1 + (i % 4)) for i in range(300)]
    fcfs = simulate_window(jobs, 4, 1.0, RlSetup(policy="fcfs", backfill=True))
    tuned = simulate_window(jobs, 4, 1.0, RlSetup("custom", True, key=rl_key(TunedArgs(w_pred=0.0, w_age=1.0))))
    assert tuned == fcfs
    assert Tuned(TunedArgs()).static and not Tuned(TunedArgs(w_fairshare=1.0)).static


def test_search_finds_the_minimum_of_a_known_bowl() -> None:
    res = search(lambda a: (a.w_pred - 0.3) ** 2 + (a.w_procs + 0.2) ** 2 + a.w_area**2, budget=120)
    assert abs(res.best.w_pred - 0.3) < 0.1 and abs(res.best.w_procs + 0.2) < 0.1
    assert res.evaluations <= 120


def test_training_windows_never_touch_test_windows() -> None:
    tests = [1981, 2756, 4299, 8850]
    for start, length in outside_starts(20000, tests, 1024, 50):
        for t in tests:
            assert start + length <= t or start >= t + 1024


class Table:
    name = "table"

    def __init__(self, points: dict[int, tuple[float, float]]) -> None:
        self.points = points

    def predict(self, job: JobSpec) -> Estimate:
        return Estimate(*self.points[job.job_id])

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def test_forecast_plans_on_predictions_and_leaves_the_scheduler_alone() -> None:
    book, space = pool_for(4)
    table = {1: (100.0, 150.0), 2: (50.0, 80.0), 3: (30.0, 60.0)}
    s = Scheduler(book, space, Profile(order="fcfs", backfill="easy"), Table(table))
    s.submit(JobSpec(1, 0.0, tasks=4, time_limit=1000.0), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 5.0, tasks=4, time_limit=500.0), 5.0)
    s.submit(JobSpec(3, 6.0, tasks=2, time_limit=400.0), 6.0)
    s.cycle(6.0)
    free, queued = book.free_cpus(), len(s.queue)
    p50 = forward_starts(s, 6.0, "point")
    assert p50 == {2: 100.0, 3: 150.0}
    assert forward_starts(s, 6.0, "request") == {2: 1000.0, 3: 1500.0}
    est = start_estimates(s, 6.0)
    assert est[2].p50 == 100.0 and est[2].p90 == 150.0 and est[3].p90 == 230.0
    assert book.free_cpus() == free and len(s.queue) == queued and list(s.running) == [1]


def test_overrunning_job_is_extended_in_the_forecast() -> None:
    book, space = pool_for(2)
    s = Scheduler(book, space, Profile(), Table({1: (10.0, 10.0), 2: (5.0, 5.0)}))
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=100.0), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 1.0, tasks=2, time_limit=50.0), 1.0)
    s.cycle(1.0)
    s.extend(1, 100.0)  # the shell extends an overrun job to its limit (Tsafrir's correction)
    assert forward_starts(s, 20.0, "point") == {2: 100.0}
    assert np.isfinite(start_estimates(s, 20.0)[2].p90)

"""The plan on requested times (``squeue --start``) keeps the queue's real order: an order that ranks jobs by
the scheduler's predictions (sjf, wfp3) is not re-ranked by the requests the plan runs them for."""

from __future__ import annotations

import pytest

from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import forward_starts
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


class Table:
    """Fixed predictions per job."""

    name = "table"

    def __init__(self, points: dict[int, float]) -> None:
        self.points = points

    def predict(self, job: JobSpec) -> Estimate:
        return Estimate(self.points[job.job_id], self.points[job.job_id])

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


# Job 2 is predicted shorter than job 3 (50 s against 200 s) but asks for longer (900 s against 300 s).
PREDICTED = {1: 100.0, 2: 50.0, 3: 200.0}
LIMITS = {1: 1000.0, 2: 900.0, 3: 300.0}


def whole_machine_queue(profile: Profile, begin: float | None = None) -> Scheduler:
    """Job 1 runs on all 4 cpus; jobs 2 and 3 each need the whole machine after it (job 2 from ``begin``)."""
    book, space = pool_for(4)
    s = Scheduler(book, space, profile, Table(PREDICTED))
    s.submit(JobSpec(1, 0.0, tasks=4, time_limit=LIMITS[1]), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 5.0, tasks=4, time_limit=LIMITS[2], begin_time=begin), 5.0)
    s.submit(JobSpec(3, 6.0, tasks=4, time_limit=LIMITS[3]), 6.0)
    s.cycle(7.0)
    return s


def first_after_job_1(s: Scheduler, end: float) -> int:
    """The job the scheduler itself starts when job 1 ends at ``end`` (on a copy, predictions unchanged)."""
    twin = s.clone(history=False)
    twin.finish(1, end)
    (started,) = twin.cycle(end).starts
    return started.job_id


@pytest.mark.parametrize("profile", [Profile(order="sjf"), Profile(order="wfp3")], ids=["sjf", "wfp3"])
def test_the_plan_on_requests_starts_jobs_in_the_schedulers_order(profile: Profile) -> None:
    s = whole_machine_queue(profile)
    first = first_after_job_1(s, LIMITS[1])
    assert first == 2  # ranked by predictions: 50 s before 200 s (by requests it would be job 3 first)
    assert forward_starts(s, 7.0, "request") == {2: 1000.0, 3: 1000.0 + LIMITS[2]}
    assert forward_starts(s, 7.0, "upper") == {2: 100.0, 3: 150.0}  # upper = point here: same order
    assert forward_starts(s, 7.0, "point") == {2: 100.0, 3: 150.0}


def test_a_held_job_keeps_its_rank_when_released_in_the_plan_on_requests() -> None:
    s = whole_machine_queue(Profile(order="sjf"), begin=20.0)
    assert 2 in s.held
    assert first_after_job_1(s, LIMITS[1]) == 2
    assert forward_starts(s, 7.0, "request") == {2: 1000.0, 3: 1000.0 + LIMITS[2]}


def test_sjf_backfill_in_the_plan_on_requests_takes_candidates_by_the_schedulers_predictions() -> None:
    """EASY with shortest-first backfilling: when job 0's 2 cpus free, the scheduler backfills A (predicted 50 s)
    before B (200 s) although A asks for 900 s and B for 300 s; the plan on requests does the same."""
    book, space = pool_for(4)
    points = {0: 20.0, 1: 1500.0, 2: 100.0, 3: 200.0, 4: 50.0}
    s = Scheduler(book, space, Profile(order="fcfs", backfill="easy", backfill_order="sjf"), Table(points))
    s.submit(JobSpec(0, 0.0, tasks=2, time_limit=500.0), 0.0)
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=2000.0), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(2, 5.0, tasks=4, time_limit=1000.0), 5.0)  # the head: the whole machine
    s.submit(JobSpec(3, 5.5, tasks=2, time_limit=300.0), 5.5)  # B
    s.submit(JobSpec(4, 6.0, tasks=2, time_limit=900.0), 6.0)  # A
    s.cycle(7.0)
    twin = s.clone(history=False)
    twin.finish(0, 20.0)
    assert [w.job_id for w in twin.cycle(20.0).starts] == [4]
    plan = forward_starts(s, 7.0, "request")
    assert plan[4] == 500.0 and plan[3] == 500.0 + 900.0 and plan[2] == 2000.0

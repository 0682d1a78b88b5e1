"""The trace simulator: virtual clock, overrun corrections, rejections and the per-cycle observer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hal.engine.cycle import Scheduler
from hal.engine.plan import Plan
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.sim.clock import CORRECT, END, SUBMIT, EventQueue
from hal.sim.simulator import Outcome, Simulation, pool_for


def job(jid: int, submit: float, limit: float | None, run: float, procs: int = 1, **kw: object) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, tasks=procs, time_limit=limit, runtime=run, **kw)  # type: ignore[arg-type]


def simulate(jobs: list[JobSpec], procs: int, backfill: str = "easy", estimate: str = "user") -> Outcome:
    book, space = pool_for(procs)
    return Simulation(jobs, book, space, Profile(backfill=backfill), make_predictor(estimate)).run()


def test_event_queue_orders_corrections_then_submissions_then_ends() -> None:
    q = EventQueue()
    q.push(5.0, END, 1)
    q.load_submissions([(5.0, 2), (1.0, 3)])
    q.push(5.0, CORRECT, 4)
    assert q.peek() == (1.0, SUBMIT)
    assert [q.pop() for _ in range(len(q))] == [(1.0, SUBMIT, 3), (5.0, CORRECT, 4), (5.0, SUBMIT, 2), (5.0, END, 1)]
    assert q.peek() is None


def test_jobs_run_their_real_runtime_and_wait_for_room() -> None:
    out = simulate([job(1, 0, 100, 50, procs=2), job(2, 10, 100, 30, procs=2)], procs=2)
    assert out.start.tolist() == [0.0, 50.0]
    assert out.end.tolist() == [50.0, 80.0]
    assert out.capacity == 2


@pytest.mark.parametrize("backfill", ["none", "easy", "conservative"])
def test_simultaneous_overruns_are_all_extended_before_the_next_cycle(backfill: str) -> None:
    """Bug: jobs 1 and 2 both outlive their limits at t=60; the cycle after the first correction counted
    job 2 as ended, so job 3 started at 60 beside two running jobs on a 2-processor machine."""
    jobs = [job(1, 0, 0, 100), job(2, 10, 50, 60), job(3, 10, 100, 100)]
    out = simulate(jobs, procs=2, backfill=backfill)
    assert out.start[2] == 70.0  # when job 2 really ends


def test_an_overrunning_job_is_extended_never_killed() -> None:
    out = simulate([job(1, 0, 10, 500), job(2, 0, 10, 10)], procs=1)
    assert out.end[0] == 500.0  # ran its whole runtime past the 10 s limit
    assert out.start[1] == 500.0


def test_impossible_jobs_are_rejected_and_reported_and_their_dependents_run() -> None:
    """A job the engine refuses never runs: its dependants start without waiting for it, as the trace's note says
    of a preceding job the replay does not run (sim/links.py; they were refused too, a cascade, QA)."""
    jobs = [
        job(1, 0, 10, 10, procs=8),
        job(2, 0, 10, 10, dependencies=(Dependency(DependencyKind.AFTEROK, 1),)),
        job(3, 0, 10, 10),
    ]
    out = simulate(jobs, procs=4)
    assert len(out.rejected) == 1
    assert "job 1" in out.rejected[0] and "8 cpus" in out.rejected[0] and "4" in out.rejected[0]
    assert math.isnan(out.start[0]) and out.start[1] == 0.0 and out.start[2] == 0.0
    assert out.done.tolist() == [False, True, True]


def test_dependent_job_waits_for_its_dependency_to_end() -> None:
    jobs = [job(1, 0, 100, 40), job(2, 0, 100, 10, dependencies=(Dependency(DependencyKind.AFTERANY, 1),))]
    out = simulate(jobs, procs=4)
    assert out.start.tolist() == [0.0, 40.0]


def test_observer_sees_every_cycle_and_every_start() -> None:
    seen: list[tuple[float, list[int]]] = []

    def watch(plan: Plan, sched: Scheduler) -> None:
        seen.append((plan.now, [p.job_id for p in plan.starts]))
        assert all(p.job_id in sched.running for p in plan.starts)

    book, space = pool_for(1)
    jobs = [job(1, 0, 10, 10), job(2, 5, 10, 10)]
    Simulation(jobs, book, space, Profile(), make_predictor("user"), on_plan=watch).run()
    assert seen == [(0.0, [1]), (5.0, []), (10.0, [2]), (20.0, [])]


def test_the_simulator_refuses_jobs_without_runtime_and_duplicate_ids() -> None:
    book, space = pool_for(1)
    with pytest.raises(ValueError, match="no runtime"):
        Simulation([JobSpec(job_id=1, submit_time=0)], book, space, Profile(), make_predictor("user"))
    sim = Simulation([job(1, 0, 1, 1), job(1, 1, 1, 1)], book, space, Profile(), make_predictor("user"))
    with pytest.raises(ValueError, match="unique"):
        sim.run()


def test_queue_samples_and_estimates_are_recorded() -> None:
    book, space = pool_for(2)
    jobs = [job(1, 0, 100, 50, procs=2), job(2, 0, 30, 30, procs=1)]
    out = Simulation(jobs, book, space, Profile(), make_predictor("user"), sample_every=1.0).run()
    assert out.estimate.tolist() == [100.0, 30.0]
    assert out.queue_samples[0] == (0.0, 0, 2)
    np.testing.assert_array_equal(out.procs, [2, 1])

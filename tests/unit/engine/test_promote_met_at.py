"""A job's dependencies are met when the last job it names ended (EligibleTime), not at the cycle that noticed:
a restarted controller hears of an end that came while no server ran, and cycles later."""

from __future__ import annotations

from hal.engine.capacity import PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import ResourceSpace

ANY, AFTER = DependencyKind.AFTERANY, DependencyKind.AFTER


def _sched() -> Scheduler:
    return Scheduler(PoolBook((4, 0, 0)), ResourceSpace(), Profile(), UserEstimate())


def _job(jid: int, *deps: Dependency, submit: float = 0.0, held: bool = False) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, tasks=1, time_limit=100.0, dependencies=deps, held=held)


def test_met_when_the_last_dependency_ended_not_when_a_later_cycle_saw_it() -> None:
    s = _sched()
    s.submit(_job(1), 0)
    s.submit(_job(2), 0)
    s.cycle(0)
    s.submit(_job(3, Dependency(ANY, 1), Dependency(ANY, 2)), 0)
    s.finish(1, 30.0)
    s.finish(2, 50.0)  # heard of late: the next cycle is at 200
    s.cycle(200.0)
    assert s.satisfied[3] == 50.0


def test_never_before_a_release_nor_the_jobs_own_submission() -> None:
    s = _sched()
    s.submit(_job(1), 0)
    s.cycle(0)
    s.submit(_job(2, Dependency(ANY, 1), held=True), 0)
    s.submit(_job(3, Dependency(ANY, 1), submit=80.0), 80.0)
    s.finish(1, 50.0)
    s.hold(2, False, 120.0)  # released after its dependency ended
    s.cycle(200.0)
    assert s.satisfied == {2: 120.0, 3: 80.0}


def test_after_counts_the_start_and_an_outcome_told_without_a_time_counts_from_the_cycle() -> None:
    s = _sched()
    s.submit(_job(1, held=True), 0)
    s.submit(_job(2, Dependency(AFTER, 1)), 0)
    s.submit(_job(8, held=True), 0)
    s.submit(_job(3, Dependency(ANY, 8)), 0)
    s.hold(1, False, 10.0)
    s.cycle(10.0)  # job 1 starts at 10; job 2 is seen to be free at the next cycle
    s.cancel(8)  # ended at a moment the engine is not told: the next cycle's
    s.cycle(40.0)
    assert s.satisfied == {2: 10.0, 3: 40.0}

"""One scheduler cycle: admission, holds and their reasons, ordering, starts and the head's reservation."""

from __future__ import annotations

from typing import Any

import pytest

from hal.engine.capacity import PoolBook
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import Dependency, DependencyKind, JobSpec, PendingReason
from hal.model.resources import ResourceSpace


def scheduler(procs: int = 4, **profile: Any) -> Scheduler:
    return Scheduler(PoolBook((procs, 0, 0)), ResourceSpace(), Profile(**profile), UserEstimate())


def spec(jid: int, procs: int = 1, limit: float | None = 100.0, **kw: object) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=0, tasks=procs, time_limit=limit, **kw)  # type: ignore[arg-type]


def after(kind: DependencyKind, jid: int) -> tuple[Dependency, ...]:
    return (Dependency(kind, jid),)


def test_admission_refuses_duplicates_impossible_jobs_and_unknown_dependencies() -> None:
    s = scheduler()
    s.submit(spec(1), 0)
    with pytest.raises(Rejected, match="job 1 was already submitted"):
        s.submit(spec(1), 0)
    with pytest.raises(Rejected, match="job 2: needs 5 cpus, the machine has 4"):
        s.submit(spec(2, procs=5), 0)
    with pytest.raises(Rejected, match="job 3: dependency on unknown job 99"):
        s.submit(spec(3, dependencies=after(DependencyKind.AFTEROK, 99)), 0)


def test_the_planner_uses_the_prediction_capped_at_the_limit() -> None:
    s = scheduler()
    assert s.submit(spec(1, limit=50.0), 0).estimate == 50.0
    assert s.submit(spec(2, limit=None), 0).estimate == 3600.0


def test_starts_and_reasons() -> None:
    s = scheduler()
    for jid, procs, limit in ((1, 3, 100.0), (2, 4, 100.0), (3, 1, 500.0)):
        s.submit(spec(jid, procs=procs, limit=limit), 0)
    plan = s.cycle(0)
    assert [p.job_id for p in plan.starts] == [1]
    assert s.reason_of(2) is PendingReason.RESOURCES  # the head
    assert s.reason_of(3) is PendingReason.PRIORITY
    # job 3 would fit the free processor but run past the head's shadow time, so it waits
    assert [(r.job_id, r.start) for r in plan.reservations] == [(2, 100.0)]
    assert s.reservations == {2: 100.0}
    s.finish(1, 100.0)
    plan = s.cycle(100.0)
    assert [p.job_id for p in plan.starts] == [2]
    assert 2 not in s.reservations


def test_dependencies_hold_jobs_until_the_outcome_is_known() -> None:
    s = scheduler()
    s.submit(spec(1), 0)
    s.submit(spec(2, dependencies=after(DependencyKind.AFTEROK, 1)), 0)
    s.submit(spec(3, dependencies=after(DependencyKind.AFTERNOTOK, 1)), 0)
    s.submit(spec(4, dependencies=after(DependencyKind.AFTER, 1)), 0)
    s.submit(spec(5, dependencies=after(DependencyKind.AFTERANY, 1)), 0)
    plan = s.cycle(0)
    assert [p.job_id for p in plan.starts] == [1]
    assert s.reason_of(2) is PendingReason.DEPENDENCY
    assert [p.job_id for p in s.cycle(1).starts] == [4]  # "after" only needs job 1 to have started
    s.finish(1, 10, ok=True)
    assert sorted(p.job_id for p in s.cycle(10).starts) == [2, 5]
    assert s.reason_of(3) is PendingReason.DEPENDENCY_NEVER_SATISFIED
    s.cancel(3)
    assert 3 not in s.held and s.outcomes[3] is False


def test_afterok_on_a_failed_job_is_never_satisfied() -> None:
    s = scheduler()
    s.submit(spec(1), 0)
    s.cycle(0)
    s.submit(spec(2, dependencies=after(DependencyKind.AFTEROK, 1)), 0)
    s.finish(1, 5, ok=False)
    assert not s.cycle(5).starts
    assert s.reason_of(2) is PendingReason.DEPENDENCY_NEVER_SATISFIED


def test_begin_time_holds_a_job() -> None:
    s = scheduler()
    s.submit(spec(1, begin_time=50.0), 0)
    assert not s.cycle(0).starts
    assert s.reason_of(1) is PendingReason.BEGIN_TIME
    assert [p.job_id for p in s.cycle(50.0).starts] == [1]


def test_cancel_a_pending_job() -> None:
    s = scheduler(procs=1)
    s.submit(spec(1), 0)
    s.submit(spec(2), 0)
    s.cycle(0)
    s.cancel(2)
    assert len(s.queue) == 0


def test_a_job_past_its_prediction_is_released_at_the_predicted_end_unless_extended() -> None:
    s = scheduler(procs=1)
    s.submit(spec(1, limit=10.0), 0)
    s.cycle(0)
    s.submit(spec(2, limit=10.0), 0)
    s.extend(1, 30.0)  # the shell saw job 1 outlive its 10 s
    assert not s.cycle(10.0).starts
    assert [p.job_id for p in s.cycle(30.0).starts] == [2]  # contract: predicted end <= now means ended
    s.finish(1, 30.0)
    assert s.book.free_cpus() == 0  # job 1's processors were freed once, not twice


def test_fair_share_charges_cpu_seconds_per_user() -> None:
    s = scheduler(order="multifactor")
    s.submit(spec(1, procs=2, user="alice"), 0)
    s.cycle(0)
    s.finish(1, 100.0)
    assert s.ledger.usage(100.0) == {"alice": 200.0}

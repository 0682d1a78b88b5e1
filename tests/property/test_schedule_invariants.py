"""Invariants of every simulated schedule, under every profile, on pools and node tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.engine.profile import BACKFILLS, Profile
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import Resources
from tests.property.machines import (
    ALL_ORDERS,
    Case,
    Machine,
    budget,
    cases,
    check_schedule,
    clusters,
    pools,
    pools3,
    profiles,
    rejected_ids,
    simulate,
)

FAST = budget(12)


@pytest.mark.parametrize("backfill", BACKFILLS)
@pytest.mark.parametrize("order", ALL_ORDERS)
@FAST
@given(data=st.data())
def test_every_profile_keeps_the_invariants(order: str, backfill: str, data: st.DataObject) -> None:
    """No over-subscription, no start before submission or dependencies, each job runs once or is rejected."""
    case: Case = data.draw(
        cases(
            machine=st.one_of(pools(), pools3(), clusters()),
            profile=profiles(orders=(order,), backfills=(backfill,)),
        )
    )
    out, rec, sched = simulate(case)
    check_schedule(case, out, rec, sched)


@budget(40)
@given(case=cases(machine=clusters()))
def test_node_tables_keep_the_invariants(case: Case) -> None:
    """Node tables with several shapes, partitions, features, pinned and exclusive jobs, under random profiles."""
    out, rec, sched = simulate(case)
    check_schedule(case, out, rec, sched)


@budget(25)
@given(case=cases())
def test_same_input_same_schedule(case: Case) -> None:
    """Determinism: two runs of the same input give the same plans, cycle by cycle."""
    first, rec1, _ = simulate(case)
    second, rec2, _ = simulate(case)
    np.testing.assert_array_equal(first.start, second.start)
    assert rec1.plans == rec2.plans
    assert first.rejected == second.rejected


@pytest.mark.parametrize("backfill", ["none", "easy"])
@budget(30)
@given(data=st.data())
def test_no_needless_idling(backfill: str, data: st.DataObject) -> None:
    """After every cycle the head of the queue does not fit the free resources (else it would have started)."""
    case: Case = data.draw(cases(profile=profiles(backfills=(backfill,))))
    _, rec, _ = simulate(case)
    assert not rec.idle_heads, rec.idle_heads[:3]


@budget(60)
@given(case=cases(profile=profiles(backfills=("conservative",))))
def test_conservative_never_idles_the_whole_machine(case: Case) -> None:
    """Conservative may keep a fitting head waiting for a promised slot, but never with the machine empty."""
    _, rec, _ = simulate(case)
    assert not rec.idle_machine, rec.idle_machine[:3]


def test_a_rejected_job_behind_a_failed_afterok_is_not_held() -> None:
    """Found by the property above (sjf, conservative): job 4 needs a GPU the pool lacks, so it is rejected at
    submission, and its afterok on job 3 can never be met either (job 3 is cut at its --time-min limit to end
    before the whole-pool job 2, then killed there). Rejected, it is not held: the check once expected it held."""

    def job(jid: int, tasks: int, runtime: float, **kw: Any) -> JobSpec:
        gpus = kw.pop("gpus", 0)
        return JobSpec(jid, 0.0, tasks, Resources(cpus=1, gpus=gpus), user="u1", runtime=runtime, **kw)

    jobs = (
        job(1, 1, 5.0, time_limit=1),
        job(2, 5, 0.0),
        job(3, 1, 60.0, time_limit=100, time_min=25.0),
        job(4, 1, 0.0, gpus=1, dependencies=(Dependency(DependencyKind.AFTEROK, 3),)),
    )
    case = Case(Machine("pool3", (5, 1024, 0)), jobs, Profile(order="sjf", backfill="conservative"), "actual")
    out, rec, sched = simulate(case)
    assert rec.limits == {3: 59.0} and not sched.held and rejected_ids(out) == [4]
    check_schedule(case, out, rec, sched)

"""Reservations are promises: with FCFS and estimates that are upper bounds, no job starts after one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property.machines import Case, budget, cases, check_schedule, clusters, pools, pools3, profiles, simulate

PROMISES = budget(40)


def broken_promises(case: Case) -> list[str]:
    out, rec, sched = simulate(case)
    check_schedule(case, out, rec, sched)
    start = dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))
    assert (out.estimate[out.done] >= out.run[out.done]).all(), "the case was meant to have upper-bound estimates"
    broken = []
    for jid, made in rec.reservations.items():
        for at, promised in made:
            if start[jid] > promised:
                broken.append(f"job {jid}: reserved at t={at} for {promised}, started {start[jid]}")
    return broken


@pytest.mark.parametrize("machine", ["pool", "pool3", "nodes"])
@pytest.mark.parametrize("backfill", ["easy", "conservative"])
@PROMISES
@given(data=st.data())
def test_fcfs_reservations_hold_with_upper_bound_estimates(machine: str, backfill: str, data: st.DataObject) -> None:
    """EASY: the head never starts after its shadow time. Conservative: no job starts after any of its
    reservations. Dependencies are left out: a promoted dependent is older than the head and rightly
    goes before it."""
    machines = {"pool": pools(), "pool3": pools3(), "nodes": clusters()}
    case: Case = data.draw(
        cases(
            machine=machines[machine],
            profile=profiles(orders=("fcfs",), backfills=(backfill,)),
            estimates=("user", "actual"),
            upper_bound=True,
            with_deps=False,
        )
    )
    broken = broken_promises(case)
    assert not broken, broken[:3]


@PROMISES
@given(
    case=cases(
        profile=profiles(backfills=("conservative",)), estimates=("user", "actual"), upper_bound=True, with_deps=True
    )
)
def test_conservative_reservations_hold_under_every_order(case: Case) -> None:
    """Conservative places newcomers (and promoted dependents) around the slots already promised, so the
    promise holds whatever the queue order."""
    broken = broken_promises(case)
    assert not broken, broken[:3]

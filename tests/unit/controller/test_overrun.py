"""The live planner's end for a job past its planned end: within its limit the correction rule, past its limit
the kill (SIGTERM at the limit, SIGKILL a KillWait later). The QA repro: with the ladder, the instant between a
kill and its report showed a made-up hole before the head's reservation, and backfill started a job in it."""

from __future__ import annotations

import pytest

from hal.controller.overrun import overrun_end
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources

KILL_WAIT = 10.0


def test_within_its_limit_the_correction_rule_extends_it() -> None:
    s = machine("easy")
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=7200), 0.0)
    s.cycle(0.0)
    act = s.running[1]
    assert overrun_end(act, 3600.0, "reqtime", KILL_WAIT) == 7200.0
    assert overrun_end(act, 3600.0, "ladder", KILL_WAIT) == 7200.0  # capped at the limit


def test_past_its_limit_it_ends_by_the_kill() -> None:
    s = machine("easy")
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=7200), 0.0)
    s.cycle(0.0)
    act = s.running[1]
    assert overrun_end(act, 7200.05, "reqtime", KILL_WAIT) == 7211.0  # not the ladder's 18,000
    assert overrun_end(act, 7300.0, "reqtime", KILL_WAIT) == 7301.0  # late to report: always after now


def machine(backfill: str) -> Scheduler:
    table = NodeTable.of(Cluster.uniform(4, Resources(cpus=2)))
    return Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill=backfill), UserEstimate())


@pytest.mark.parametrize("backfill", ["easy", "conservative"])
def test_the_head_keeps_its_start_while_a_job_past_its_limit_is_killed(backfill: str) -> None:
    s = machine(backfill)
    s.submit(JobSpec(1, 0.0, tasks=6, time_limit=7200), 0.0)  # A: 6 of 8 CPUs
    s.submit(JobSpec(2, 0.0, tasks=8, time_limit=3600), 0.0)  # B: the head, all 8 at A's end
    s.cycle(0.0)
    s.submit(JobSpec(3, 5000.0, tasks=2, time_limit=43200, time_min=7200), 5000.0)  # C: fits the 2 free CPUs
    for now in (5000.0, 7199.9, 7200.05):  # as run_cycle does: overruns extended, then a cycle
        while s.ends and s.ends[0][0] <= now:
            act = s.running[s.ends[0][2]]
            s.extend(s.ends[0][2], overrun_end(act, now, "reqtime", KILL_WAIT))
        assert 3 not in {p.job_id for p in s.cycle(now).starts}, now
    s.finish(1, 7200.2)
    assert {p.job_id for p in s.cycle(7200.2).starts} == {2}  # B starts when A's CPUs are back

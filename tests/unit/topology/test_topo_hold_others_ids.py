"""`hal explain` (the advice call's topology words) names the --exclusive=topo jobs holding idle nodes by id only
when they are the waiting job's user's: another user's are counted, as hal dataset show counts them. QA: bob was
told "held for --exclusive=topo job 128", a job of root's he cannot see."""

from __future__ import annotations

from hal.engine.plugins.placement_explain import topology_hold
from hal.model.job import JobSpec
from tests.unit.topology.test_block_named_placement import scheduler

NAMES = [f"gpu{i:02d}" for i in range(1, 17)]
CONF = "".join(f"BlockName=nvl{b + 1} Nodes=gpu[{4 * b + 1:02d}-{4 * b + 4:02d}]\n" for b in range(4))


def _held(owners: list[str]) -> str:
    sched = scheduler(NAMES, CONF + "BlockSizes=4\n")
    for jid, user in enumerate(owners, start=1):
        sched.submit(JobSpec(jid, 0.0, tasks=1, nodes=1, exclusive="topo", time_limit=600.0, user=user), 0.0)
    assert len(sched.cycle(0.0).starts) == len(owners)
    waiting = 10
    sched.submit(JobSpec(waiting, 1.0, tasks=1, nodes=1, exclusive="topo", time_limit=600.0, user="bob"), 1.0)
    assert not sched.cycle(1.0).starts
    held = topology_hold(sched, waiting)
    assert held is not None
    return held


def test_other_users_jobs_are_counted_not_named() -> None:
    held = _held(["root"] * 4)
    assert "job 1" not in held and "jobs 1" not in held and "(job" not in held, held
    assert "held for 4 --exclusive=topo jobs of other users" in held, held
    assert "gpu02, gpu03, gpu04 (another user's job)" in held, held


def test_the_users_own_jobs_keep_their_ids() -> None:
    held = _held(["bob", "root", "bob", "root"])
    assert "held for --exclusive=topo jobs 1, 3 and 2 jobs of other users" in held, held
    assert "(job 1)" in held and "(job 2)" not in held and "(another user's job)" in held, held

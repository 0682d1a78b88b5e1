"""QA on cluster R1 (blocks nvl1 = gpu[01-04], nvl2 = gpu[05-08]) with gpu04 and gpu08 the only idle nodes: a pending
`--exclusive=topo -N1` job showed Reason=Resources, "waits for nodes to free up", and neither its reason nor `hal
explain` said that it needs a block no other job uses. It now waits for Topology, and the why names the idle nodes
that sit in blocks other jobs use."""

from __future__ import annotations

import pytest

from hal.cli.explain import topology_advice
from hal.engine.cycle import Scheduler
from hal.engine.plugins.placement_explain import topology_hold
from hal.model.job import JobSpec, PendingReason
from tests.unit.topology.test_block_named_placement import BUSY, R1, R1_CONF, occupy, scheduler


def topo_job(jid: int = 1, nodes: int = 1) -> JobSpec:
    return JobSpec(jid, 1.0, tasks=nodes, nodes=nodes, exclusive="topo", time_limit=600.0)


@pytest.mark.parametrize("placement", ["topology", "firstfit"])
def test_an_exclusive_topo_job_says_it_waits_for_a_block_of_its_own(placement: str) -> None:
    sched = scheduler(R1, R1_CONF, placement)
    occupy(sched, BUSY)
    sched.submit(topo_job(), 1.0)
    assert not sched.cycle(1.0).starts
    assert sched.reason_of(1) is PendingReason.TOPOLOGY  # the old code: Resources
    held = topology_hold(sched, 1)
    assert held == (
        "it goes only into blocks no other job uses (--exclusive=topo, as in Slurm's topology/block); idle nodes "
        "gpu04, gpu08 are in blocks other jobs use"
    )
    why = topology_advice({"placement_request": {"segment": 1}}, held)  # its own words, even with a --segment
    assert why == f"free nodes exist, but {held}"


def test_no_such_words_when_it_fits_or_nothing_is_free() -> None:
    sched: Scheduler = scheduler(R1, R1_CONF)
    occupy(sched, ("gpu01", "gpu02", "gpu03", "gpu04"))
    sched.submit(topo_job(), 1.0)
    assert topology_hold(sched, 1) is None  # nvl2 is unused: it fits
    assert [p.job_id for p in sched.cycle(1.0).starts] == [1]
    sched.submit(topo_job(2), 2.0)  # nvl1 is busy and nvl2 is job 1's: nothing free to share either, but
    assert not sched.cycle(2.0).starts  # the idle nodes job 1's block holds are named (QA: only Resources)
    held = topology_hold(sched, 2)
    assert held is not None and "idle nodes gpu06, gpu07, gpu08 are held for --exclusive=topo job 1" in held
    assert sched.reason_of(2) is not PendingReason.TOPOLOGY

"""QA: on 4-node blocks bA..bD (BlockSizes=4,8,16) with only two blocks partly free, a -N5 --exclusive job waits
for Topology, and `hal explain` said "not enough within ... its largest block aggregation" and offered
"candidate 1: g[03-04,10-12] block16", a placement over two 8-node aggregations that the job may never take (Slurm's
topology/block keeps a job of 5 nodes in one aggregation of 8, the smallest of BlockSizes that holds it)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from hal.cli.explain import topology_advice
from hal.controller.advice import candidates
from hal.engine.cycle import Scheduler
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.placement_explain import topology_hold, topology_reason
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

NAMES = [f"g{i:02d}" for i in range(1, 17)]
BLOCKS = "".join(f"BlockName=b{c} Nodes=g[{4 * i + 1:02d}-{4 * i + 4:02d}]\n" for i, c in enumerate("ABCD"))


def controller() -> Any:
    topo = parse_topology_conf(BLOCKS + "BlockSizes=4,8,16\n", NAMES)
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("batch",)) for n in NAMES)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(NAMES), default=True),), topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    sched = Scheduler(book, table.space, profile, UserEstimate())
    return SimpleNamespace(lock=threading.Lock(), book=book, sched=sched)


def job(jid: int, nodes: int, names: tuple[str, ...] = ()) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=nodes, nodes=nodes, exclusive=True, time_limit=100.0, node_names=names)


def held_five() -> Any:
    """Free: g03-04 (block bA) and g10-12 (bC): 5 nodes, at most 3 in one 8-node aggregation."""
    ctl = controller()
    busy = [("g01", "g02"), ("g05", "g06", "g07", "g08"), ("g09",), ("g13", "g14", "g15", "g16")]
    for jid, names in enumerate(busy, start=1):
        ctl.sched.submit(job(jid, len(names), names), 0.0)
    assert len(ctl.sched.cycle(0.0).starts) == 4
    ctl.sched.submit(job(9, 5), 1.0)
    assert not ctl.sched.cycle(1.0).starts
    return ctl


def test_candidates_are_only_placements_the_job_may_take() -> None:
    ctl = held_five()
    assert topology_reason(ctl.sched, 9) == "Topology"
    assert candidates(ctl, 9) == []  # the old code: g[03-04,10-12] over the whole block16
    ctl.sched.submit(job(10, 3), 2.0)  # 3 nodes fit one 4-node block: offered there, never over two
    offered = candidates(ctl, 10)
    assert offered and all(p["level"] == "block" for p in offered), offered


def test_the_why_names_the_smallest_aggregation_that_holds_the_job() -> None:
    ctl = held_five()
    held = topology_hold(ctl.sched, 9)
    assert held == (
        "it needs 5 nodes within one block8 (8 nodes: the smallest block aggregation that holds 5, as Slurm's "
        "topology/block places a job of 5 nodes in one aggregation of the smallest of its sizes that holds it); "
        "the most it may use in one now is 3"
    )
    why = topology_advice({"placement_request": {}}, held)
    assert why == f"free nodes exist, but {held}"
    assert "largest block aggregation" not in topology_advice({"placement_request": {}})  # an older server's


def test_a_job_that_fits_gets_no_such_words_and_one_of_its_own_level_is_told_its_own() -> None:
    ctl = held_five()
    ctl.sched.submit(job(10, 2), 2.0)
    assert topology_hold(ctl.sched, 10) is None  # it fits now
    ctl.sched.submit(JobSpec(11, 2.0, tasks=5, nodes=5, exclusive=True, time_limit=9.0, topology_required="block8"), 2)
    held = topology_hold(ctl.sched, 11)  # its own --topology: named, with what one block8 has for it
    assert held == (
        "it needs 5 nodes within one block8 (--topology required=block8); the most free in one now is 3, so it "
        "waits for jobs there to end"
    )

"""QA: once a --switches=N@maxwait job's wait has run out, what holds it is the block rule (a -N2 job in one
4-node block), yet `hal explain` still blamed its --switches ("free nodes exist, but not within its
--switches=1"), while the same job without --switches was told of the block."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from hal.cli.explain import topology_advice
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


def held_pair(**extra: Any) -> Any:
    """One node free in each 4-node block; a -N2 job waits (for Topology)."""
    topo = parse_topology_conf(BLOCKS + "BlockSizes=4\n", NAMES)
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("batch",)) for n in NAMES)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(NAMES), default=True),), topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    sched = Scheduler(book, table.space, profile, UserEstimate())
    for jid, block in enumerate(range(4), start=1):
        names = tuple(NAMES[4 * block : 4 * block + 3])
        sched.submit(JobSpec(jid, 0.0, tasks=3, nodes=3, exclusive=True, time_limit=1e5, node_names=names), 0.0)
    assert len(sched.cycle(0.0).starts) == 4
    spec = JobSpec(9, 1.0, tasks=2, nodes=2, exclusive=True, time_limit=100.0, **extra)
    sched.submit(spec, 1.0)
    assert not sched.cycle(1.0).starts
    return SimpleNamespace(lock=threading.Lock(), book=book, sched=sched)


def test_past_its_switch_wait_the_block_rule_is_named() -> None:
    plain = topology_hold(held_pair().sched, 9)
    assert plain is not None and "2 nodes within one block" in plain
    ctl = held_pair(switches=1, switches_wait=60.0)
    within = topology_hold(ctl.sched, 9)  # within its wait: its own --switches=1, and the block rule as well
    assert within is not None and within.startswith("not within its --switches=1, and it needs 2 nodes within")
    assert within.endswith("its --switches wait runs out at t=61 s, and then only the latter holds it")
    rec = {"reason": "Topology", "placement_request": {"switches": 1}}
    assert "--switches=1" in topology_advice(rec, topology_hold(ctl.sched, 9))
    assert not ctl.sched.cycle(120.0).starts  # the wait is over: still no block has 2 free nodes
    assert topology_reason(ctl.sched, 9) == "Topology"
    held = topology_hold(ctl.sched, 9)
    assert held == plain, held
    said = topology_advice(rec, held)
    assert "--switches" not in said and "within one block" in said

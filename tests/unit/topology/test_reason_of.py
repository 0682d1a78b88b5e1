"""The engine's own pending reason: ``Topology`` for a job held only by its topology request."""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec, PendingReason
from tests.unit.topology.test_selector import book_of


def test_reason_of_names_topology() -> None:
    book, _, table = book_of(32, (4, 8), ("rack", "switch"))
    for leaf in range(4):
        table.free[leaf * 8 : leaf * 8 + 4] = 0  # 4 free nodes per leaf: 16 free, never 6 in one leaf
    sched = Scheduler(book, table.space, Profile(placement="topology"), make_predictor("user"))
    held = JobSpec(1, 0.0, tasks=48, nodes=6, exclusive=True, time_limit=60.0, switches=1, switches_wait=1000.0)
    big = JobSpec(2, 0.0, tasks=160, nodes=20, exclusive=True, time_limit=60.0)
    sched.submit(held, 0.0)
    sched.submit(big, 0.0)
    book.now = 10.0
    sched.cycle(10.0)
    assert sched.reason_of(1) is PendingReason.TOPOLOGY
    assert sched.reason_of(2) in (PendingReason.RESOURCES, PendingReason.PRIORITY)


def test_a_job_held_only_by_the_largest_block_aggregation_waits_for_topology() -> None:
    """16 free nodes, but not within one 16-node BlockSizes aggregation: Topology, not Resources."""
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopologySelector
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.resources import Resources
    from hal.topology_conf import parse_topology_conf

    base = Cluster.uniform(32, Resources(cpus=1))
    names = [n.name for n in base.nodes]
    text = "".join(f"BlockName=b{i} Nodes={','.join(names[4 * i : 4 * i + 4])}\n" for i in range(8))
    topo = parse_topology_conf(text + "BlockSizes=4,8,16\n", names)
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    table.free[2:18] = 0  # nodes 0-1 and 18-31 free: 16, split over the two 16-node aggregations
    book = NodeBook(table, selector=TopologySelector(topo))
    sched = Scheduler(book, table.space, Profile(placement="topology"), make_predictor("user"))
    sched.submit(JobSpec(1, 0.0, tasks=16, nodes=16, exclusive=True, time_limit=60.0), 0.0)
    sched.cycle(0.0)
    assert sched.reason_of(1) is PendingReason.TOPOLOGY

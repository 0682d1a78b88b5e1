"""On topology/block a job without -N is kept to the block aggregation the fewest nodes its tasks fit on call
for, as a -N job of that many nodes is (Slurm derives a job's node count from its tasks). QA: with 2 nodes held
in every 4-node block, `-n 4 --gpus-per-task=8` ran over two blocks while `-N 4 --gpus-per-node=8` waited for
one; `-n 6` (2-CPU nodes) ran over two blocks while `-N 3` waited."""

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

NAMES = [f"gpu{i:03d}" for i in range(1, 17)]
BLOCKS = "".join(f"BlockName=b{i + 1} Nodes=gpu[{4 * i + 1:03d}-{4 * i + 4:03d}]\n" for i in range(4))


def held_two_a_block() -> Any:
    """Four 4-node blocks of 2-CPU, 8-GPU nodes; the first two nodes of every block taken."""
    topo = parse_topology_conf(BLOCKS, NAMES)
    nodes = tuple(Node(n, Resources(cpus=2, gpus=8), partitions=("batch",)) for n in NAMES)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(NAMES), default=True),), topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    sched = Scheduler(book, table.space, profile, UserEstimate())
    for i in range(4):
        names = (NAMES[4 * i], NAMES[4 * i + 1])
        sched.submit(JobSpec(i + 1, 0.0, tasks=2, nodes=2, exclusive=True, time_limit=600.0, node_names=names), 0.0)
    assert len(sched.cycle(0.0).starts) == 4
    return SimpleNamespace(lock=threading.Lock(), book=book, sched=sched)


def test_a_job_sized_by_its_tasks_waits_for_one_block_as_its_node_count_would() -> None:
    ctl = held_two_a_block()
    s = ctl.sched
    per_gpu_task = JobSpec(10, 1.0, tasks=4, per_task=Resources(cpus=1, gpus=8), time_limit=60.0)
    per_node = JobSpec(11, 1.0, tasks=4, nodes=4, node_gpus=8, time_limit=60.0)
    cpus_only = JobSpec(12, 1.0, tasks=6, time_limit=60.0)  # 3 nodes of 2 CPUs at fewest
    for spec in (per_gpu_task, per_node, cpus_only):
        s.submit(spec, 1.0)
    assert s.cycle(1.0).starts == []  # the old code ran 10 and 12 over two blocks each
    for jid in (10, 11, 12):
        assert topology_reason(s, jid) == "Topology", jid
        assert candidates(ctl, jid) == []
    said = topology_advice({}, topology_hold(s, 12))
    assert "needs 6 tasks" in said and "3 nodes" in said and "one block" in said, said


def test_a_job_whose_tasks_fit_the_free_nodes_of_one_block_starts_there() -> None:
    ctl = held_two_a_block()
    s = ctl.sched
    s.submit(JobSpec(10, 1.0, tasks=4, time_limit=60.0), 1.0)  # 2 nodes at fewest: two free in each block
    started = s.cycle(1.0).starts
    assert [p.job_id for p in started] == [10]
    assert len({n // 4 for n in started[0].nodes}) == 1


def test_tasks_are_sized_on_the_nodes_of_their_partition() -> None:
    """QA: beside two 8-CPU nodes of another partition, `-p small -n 8` on four 2-CPU nodes was sized as one node
    (on the big ones), kept to one block of two small nodes and refused as never fitting; it ran before."""
    names = [f"sm{i}" for i in range(4)] + ["big0", "big1"]
    topo = parse_topology_conf(
        "BlockName=a Nodes=sm[0-1]\nBlockName=b Nodes=sm[2-3]\nBlockName=c Nodes=big[0-1]\n", names
    )
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("small",)) for n in names[:4]) + tuple(
        Node(n, Resources(cpus=8), partitions=("big",)) for n in names[4:]
    )
    parts = (Partition("small", tuple(names[:4]), default=True), Partition("big", tuple(names[4:])))
    table = NodeTable.of(Cluster(nodes, parts, topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    sched = Scheduler(book, table.space, profile, UserEstimate())
    sched.submit(JobSpec(1, 0.0, tasks=8, partition="small", time_limit=60.0), 0.0)  # raised "can never run"
    (started,) = sched.cycle(0.0).starts
    assert sorted(table.names[int(i)] for i in started.nodes) == names[:4]

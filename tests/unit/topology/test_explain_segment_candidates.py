"""`hal explain`'s candidate placements are ones the job could really get: a --segment job's keep each segment in
one block (QA: on 4-node blocks with g01, g05, g09, g13 busy, a held -N 4 --segment=2 job was offered
g[02-04,06], a segment split over two blocks, and then ran on g[02-03,06-07]), and a job of several partitions
(-p a,b) is offered placements in one of them, never over both."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import numpy as np

from hal.controller.advice import candidates
from hal.engine.cycle import Scheduler
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.executors.hostlist import expand
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

NAMES = [f"g{i:02d}" for i in range(1, 17)]
BLOCKS = "".join(f"BlockName=b{c} Nodes=g[{4 * i + 1:02d}-{4 * i + 4:02d}]\n" for i, c in enumerate("ABCD"))
LOW, HIGH = tuple(NAMES[:6]), tuple(NAMES[6:])  # block bB holds nodes of both


def controller() -> Any:
    """g01, g05, g09 and g13 busy: three nodes free in each block."""
    topo = parse_topology_conf(BLOCKS, NAMES)
    nodes = tuple(
        Node(n, Resources(cpus=2), partitions=tuple(p for p, m in (("low", LOW), ("high", HIGH)) if n in m))
        for n in NAMES
    )
    parts = (Partition("low", LOW, default=True), Partition("high", HIGH))
    table = NodeTable.of(Cluster(nodes, parts, topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    sched = Scheduler(book, table.space, profile, UserEstimate())
    for jid, name in enumerate(("g01", "g05", "g09", "g13"), start=1):
        part = "low" if name in LOW else "high"
        spec = JobSpec(jid, 0.0, exclusive=True, time_limit=100.0, node_names=(name,), partition=part)
        sched.submit(spec, 0.0)
    assert len(sched.cycle(0.0).starts) == 4
    return SimpleNamespace(lock=threading.Lock(), book=book, sched=sched)


def blocks(nodelist: str) -> list[int]:
    """How many of the nodes each block holds, per block used."""
    used = np.array([NAMES.index(n) // 4 for n in expand(nodelist)])
    return [int(c) for c in np.bincount(used) if c]


def test_a_segment_jobs_candidates_keep_each_segment_in_one_block() -> None:
    ctl = controller()
    spec = JobSpec(9, 1.0, tasks=4, nodes=4, time_limit=60.0, segment=2, held=True, partition="high")
    ctl.sched.submit(spec, 1.0)
    offered = candidates(ctl, 9)
    assert offered, "two blocks hold two segments"
    for p in offered:
        assert all(c % 2 == 0 for c in blocks(p["nodes"])), offered  # the old code: g[06-08,10]


def test_a_job_of_two_partitions_is_offered_placements_in_one() -> None:
    ctl = controller()
    ctl.sched.submit(JobSpec(9, 1.0, tasks=3, nodes=3, time_limit=60.0, held=True, partition="low,high"), 1.0)
    offered = candidates(ctl, 9, k=6)
    assert offered
    for p in offered:
        used = set(expand(p["nodes"]))
        assert used <= set(LOW) or used <= set(HIGH), offered

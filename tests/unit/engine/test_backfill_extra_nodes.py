"""EASY's extra nodes on a node book: a candidate that would delay the head at its preferred spot may still
start on nodes the head does not need at its shadow time (the QA repro: 1-node jobs stayed pending beside a
``--topology required=switch`` head while a whole switch sat idle)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology

LEVELS = ("site", "zone", "block", "switch")


def machine(topology: bool = True) -> Scheduler:
    """16 nodes of 2 CPUs, 4 switches of 4 nodes (fanouts 1, 2, 2, 4), as in the QA repro."""
    topo = Topology.tree(16, (1, 2, 2, 4), LEVELS)
    base = Cluster.uniform(16, Resources(cpus=2))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=TopologySelector(topo)) if topology else NodeBook(table)
    return Scheduler(book, table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())


def spec(jid: int, nodes: int, limit: float, **kw: Any) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=nodes, per_task=Resources(cpus=2), nodes=nodes, time_limit=limit, **kw)


def names(lo: int, hi: int) -> tuple[str, ...]:
    return tuple(f"n{i:03d}" for i in range(lo, hi + 1))


def repro(head: dict[str, Any], topology: bool = True) -> tuple[Scheduler, dict[int, tuple[int, ...]]]:
    """n000-n008 busy for 30 min, n012-n013 for 1 min; the head needs 4 nodes for 2 min; three 20-minute
    1-node jobs follow. Returns the scheduler and who started where at t=0."""
    s = machine(topology)
    s.submit(spec(1, 8, 1800.0, node_names=names(0, 7)), 0.0)
    s.submit(spec(2, 1, 1800.0, node_names=names(8, 8)), 0.0)
    s.submit(spec(3, 2, 60.0, node_names=names(12, 13)), 0.0)
    s.submit(spec(4, 4, 120.0, **head), 0.0)
    for jid in (5, 6, 7):
        s.submit(spec(jid, 1, 1200.0), 0.0)
    placed = {p.job_id: p.nodes for p in s.cycle(0.0).starts}
    return s, placed


def test_backfill_around_a_required_switch_head_uses_the_idle_switch() -> None:
    s, placed = repro({"topology_required": "switch"})
    assert 4 not in placed and s.reservations[4] == 60.0
    assert sorted(placed[j][0] for j in (5, 6, 7)) == [9, 10, 11]  # switch2, not the head's n014-n015
    s.finish(3, 60.0)
    late = s.cycle(60.0).starts
    assert [(p.job_id, p.nodes) for p in late] == [(4, (12, 13, 14, 15))]  # the head is not delayed


def test_backfill_around_a_switches_head_uses_the_idle_switch() -> None:
    s, placed = repro({"switches": 1, "switches_wait": 240.0})
    assert 4 not in placed
    assert sorted(placed[j][0] for j in (5, 6, 7)) == [9, 10, 11]
    s.finish(3, 60.0)
    assert [(p.job_id, p.nodes) for p in s.cycle(60.0).starts] == [(4, (12, 13, 14, 15))]


def test_a_fourth_candidate_does_not_take_a_node_the_head_needs() -> None:
    s, _ = repro({"topology_required": "switch"})
    s.submit(spec(8, 1, 1200.0), 1.0)
    assert s.cycle(1.0).starts == []  # only n014-n015 are free, and the head needs them at t=60
    assert isinstance(s.book, NodeBook) and np.all(s.book.free[[14, 15], 0] == 2)


def test_plain_node_book_backfills_on_nodes_a_pinned_head_does_not_need() -> None:
    """Without a selector too: the head asks for n009-n012 (n012 busy for a minute); first fit puts a long
    candidate on n009, which the head needs; it must go to n013-n015 instead."""
    s = machine(topology=False)
    s.submit(spec(1, 9, 1800.0, node_names=names(0, 8)), 0.0)
    s.submit(spec(2, 1, 60.0, node_names=names(12, 12)), 0.0)
    s.submit(spec(3, 4, 120.0, node_names=names(9, 12)), 0.0)
    for jid in (4, 5, 6, 7):
        s.submit(spec(jid, 1, 1200.0), 0.0)
    placed = {p.job_id: p.nodes for p in s.cycle(0.0).starts}
    assert sorted(placed) == [1, 2, 4, 5, 6] and sorted(placed[j][0] for j in (4, 5, 6)) == [13, 14, 15]
    s.finish(2, 60.0)
    assert [(p.job_id, p.nodes) for p in s.cycle(60.0).starts] == [(3, (9, 10, 11, 12))]


def test_a_job_pinned_to_busy_nodes_does_not_hold_back_its_unpinned_family() -> None:
    """A node book's memo keys leave out -w: job 3, held to the busy n000, must not mark 1-task requests as
    not fitting, or job 4 (free to use n002, ending before the head's shadow) is never tried."""
    table = NodeTable.of(Cluster.uniform(4, Resources(cpus=1)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), UserEstimate())
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=100.0, node_names=("n000", "n001")), 0.0)
    s.submit(JobSpec(2, 0.0, tasks=4, time_limit=100.0), 0.0)  # the head, reserved at t=100
    s.submit(JobSpec(3, 0.0, tasks=1, time_limit=50.0, node_names=("n000",)), 0.0)
    s.submit(JobSpec(4, 0.0, tasks=1, time_limit=50.0), 0.0)
    assert [p.job_id for p in s.cycle(0.0).starts] == [1, 4]

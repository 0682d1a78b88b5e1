"""Conservative backfilling when a held slot is overdue: what its job waits for is freed after the slot's
start (the end is reported late, or the cycle runs late). The job booked first must still go first."""

from __future__ import annotations

from hal.engine.capacity import PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.simulator import pool_for


def tree() -> Scheduler:
    """The QA's machine: 16 nodes of 2 CPUs, leaves of 4 (n000-003, ...), spines of two leaves, a core."""
    topo = Topology.tree(16, (2, 2, 4), ("core", "spine", "leaf"))
    base = Cluster.uniform(16, Resources(cpus=2))
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=TopologySelector(topo))
    profile = Profile(order="multifactor", backfill="conservative", placement="topology")
    return Scheduler(book, book.table.space, profile, make_predictor("user"))


def whole(jid: int, at: float, limit: float | None, node: int | None = None, nodes: int = 1) -> JobSpec:
    """An --exclusive job: on one named node (-w), or on ``nodes`` nodes inside one leaf (--switches=1@5:00)."""
    pinned = (f"n{node:03d}",) if node is not None else ()
    switches = 1 if node is None else None
    wait = 300.0 if node is None else None
    return JobSpec(
        jid, at, tasks=2 * nodes, nodes=nodes, exclusive=True, time_limit=limit, user="u",
        node_names=pinned, switches=switches, switches_wait=wait,
    )  # fmt: skip


def started(s: Scheduler, now: float) -> dict[int, tuple[int, ...]]:
    return {p.job_id: tuple(int(n) for n in p.nodes) for p in s.cycle(now).starts}


def test_a_late_end_does_not_hand_a_switches_jobs_leaf_to_the_job_booked_after_it() -> None:
    s = tree()
    x, y1, y5, y9, y13, h1, h2, f = range(1, 9)
    jobs = [
        whole(x, 0, 120, node=0),
        whole(y1, 1, 60, node=0),
        whole(y5, 2, 300, node=4),
        whole(y9, 3, 300, node=8),
        whole(y13, 4, 300, node=12),
        whole(h1, 5, 60, nodes=4),
        whole(h2, 6, 60, nodes=4),
        whole(f, 7, None, node=1),  # no limit: planned on an assumed hour
    ]
    for spec in jobs:
        s.submit(spec, spec.submit_time)
        started(s, spec.submit_time)
    assert {j: s.slots[j][0] for j in (y1, h1, h2, f)} == {y1: 120.0, h1: 180.0, h2: 240.0, f: 300.0}
    s.finish(x, 120.0)
    assert started(s, 120.0) == {y1: (0,)}
    s.finish(y1, 180.5)  # half a second past its limit: H1's slot at 180 is overdue
    assert started(s, 180.5) == {h1: (0, 1, 2, 3)}  # was: H2 on the leaf, H1 moved to 302 on another
    assert (s.slots[h2][0], s.slots[f][0]) == (240.5, 300.5)  # the later slots yield, in their order
    s.finish(h1, 240.5)
    assert started(s, 240.5) == {h2: (0, 1, 2, 3)}  # was: F on n001, keeping H1 out of the leaf
    s.finish(h2, 300.5)
    assert f in started(s, 300.5)


def test_an_overdue_slot_keeps_its_place_ahead_of_the_next_on_a_pool() -> None:
    book, space = pool_for(4)
    assert isinstance(book, PoolBook)
    s = Scheduler(book, space, Profile(backfill="conservative"), make_predictor("user"))
    for jid in (1, 2, 3):
        s.submit(JobSpec(jid, 0.0, tasks=4, time_limit=100.0), 0.0)
    assert set(started(s, 0.0)) == {1}
    assert (s.slots[2][0], s.slots[3][0]) == (100.0, 200.0)
    s.finish(1, 100.5)
    assert set(started(s, 100.5)) == {2}  # was: job 3, while job 2 went to 200.5
    assert s.slots[3][0] == 200.5

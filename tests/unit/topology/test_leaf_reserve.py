"""Leaf-aware EASY reservation: the plan (when and where a fewest-leaf placement frees) and the engine hook."""

from __future__ import annotations

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import LeafReserver
from hal.engine.plugins.topology import Hold, TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology

INF = np.inf


def machine(leaves: int = 2, per_leaf: int = 4) -> tuple[NodeBook, TopologySelector]:
    n = leaves * per_leaf
    topo = Topology.tree(n, (per_leaf,), ("switch",))
    base = Cluster.uniform(n, Resources(cpus=8))
    sel = TopologySelector(topo)
    return NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel), sel


def test_plan_takes_the_leaf_that_frees_first() -> None:
    _, sel = machine(leaves=3)
    res = LeafReserver(sel, wait=600.0)
    at = np.array([0, 0, 50, 60, 0, 30, 30, 30, INF, INF, INF, INF], dtype=np.float64)
    lp = res.plan(at, 3)
    assert lp is not None
    assert (lp.start, lp.anywhere, lp.leaves) == (30.0, 0.0, 1)
    assert list(lp.nodes) == [4, 5, 6]  # earliest nodes of the leaf first
    two = res.plan(at, 6)  # two leaves: the fullest whole, the rest best fit
    assert two is not None and (two.start, two.anywhere, two.leaves) == (30.0, 30.0, 2)
    assert set(two.nodes) == {4, 5, 6, 7, 0, 1} and len(two.nodes) == 6
    assert res.plan(at, 9) is None  # only 8 usable nodes


def job(jid: int, nodes: int, limit: float) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=nodes * 8, nodes=nodes, exclusive=True, time_limit=limit, runtime=limit, user="u")


def run(reserve: bool, wait: float = 500.0) -> tuple[dict[int, tuple[int, ...]], dict[int, float]]:
    """Two leaves of 4 nodes. A (3 nodes, 100 s) fills leaf 0 but node 3, B (3 nodes, 1,000 s) leaf 1 but
    node 7, C (1 node, 50 s) takes node 3. The head H (2 nodes) could start at 50 over both leaves, or at
    100 inside leaf 0; then a long one-node job and a short one."""
    book, sel = machine()
    if reserve:
        book.reserver = LeafReserver(sel, wait=wait)
    s = Scheduler(book, book.table.space, Profile(order="fcfs", backfill="easy"), make_predictor("user"))
    limits = {1: 100.0, 2: 1000.0, 3: 50.0, 4: 300.0, 5: 2000.0, 6: 20.0}
    for jid, nodes in ((1, 3), (2, 3), (3, 1), (4, 2), (5, 1), (6, 1)):
        s.submit(job(jid, nodes, limits[jid]), 0.0)
    placed: dict[int, tuple[int, ...]] = {}
    starts: dict[int, float] = {}
    ends: list[tuple[float, int]] = []
    now = 0.0
    while True:
        for p in s.cycle(now).starts:
            placed[p.job_id], starts[p.job_id] = p.nodes, p.start
            ends.append((p.start + limits[p.job_id], p.job_id))
        if not ends:
            return placed, starts
        ends.sort()
        now, jid = ends.pop(0)
        s.finish(jid, now)


def test_plain_easy_starts_the_head_over_two_leaves() -> None:
    placed, starts = run(reserve=False)
    assert starts[4] == 50.0 and {n // 4 for n in placed[4]} == {0, 1}


def test_leaf_reservation_holds_the_head_for_one_leaf_and_backfills_around_it() -> None:
    placed, starts = run(reserve=True)
    assert starts[4] == 100.0 and len({n // 4 for n in placed[4]}) == 1
    assert starts[5] == 0.0 and placed[5] == (7,)  # the long job stays off the nodes reserved for H
    assert starts[6] == 50.0 and placed[6] == (3,)  # the short one may use one: it ends before H starts


def test_a_head_not_worth_the_wait_starts_anywhere() -> None:
    placed, starts = run(reserve=True, wait=10.0)  # one leaf at 100 is 50 s past when it fits anywhere
    assert starts[4] == 50.0 and {n // 4 for n in placed[4]} == {0, 1}


def test_a_held_request_refuses_more_leaves_until_its_hold_lapses() -> None:
    book, sel = machine()
    filler = book.allocate(request_of(job(1, 3, 10.0), book.table.space))
    assert filler is not None and {n // 4 for n in filler.nodes} == {0}
    req = request_of(job(2, 2, 10.0), book.table.space)
    book.allocate(request_of(job(3, 3, 10.0), book.table.space))  # leaves one node free in each leaf
    sel.holds = {id(req): Hold(req, 1, 100.0)}
    book.now = 50.0
    assert book.allocate(req) is None
    book.now = 100.0
    got = book.allocate(req)
    assert got is not None and {n // 4 for n in got.nodes} == {0, 1}

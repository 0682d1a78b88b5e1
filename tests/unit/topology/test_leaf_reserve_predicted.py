"""Leaf-aware reservation planned on predicted runtimes: the predictor, not the request, sets the held node
sets' expected ends in the placement simulator, and a prediction that proves too short is corrected."""

from __future__ import annotations

import numpy as np

from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import LeafReserver
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementOutcome, PlacementSimulation


def job(jid: int, nodes: int, limit: float, runtime: float, user: str) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=nodes * 8, nodes=nodes, exclusive=True, time_limit=limit, runtime=runtime, user=user)


def simulate(estimate: str, a_runtime: float) -> PlacementOutcome:
    """Two leaves of 4 nodes. A (3 nodes, asks 1,000 s, user a who ran 100 s twice before) fills leaf 0 but
    node 3, B (3 nodes, 1,000 s) leaf 1 but node 7, C (1 node, 50 s) one of the two. The head H (2 nodes) fits
    over both leaves at 50; in one leaf when A ends: 1,000 s by the request, 100 s by last2. Then a long and a
    short one-node job (their EASY pass is what plans the head)."""
    n = 8
    topo = Topology.tree(n, (4,), ("switch",))
    base = Cluster.uniform(n, Resources(cpus=8))
    sel = TopologySelector(topo)
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel)
    book.reserver = LeafReserver(sel, wait=200.0)
    predictor = make_predictor(estimate)
    for _ in range(2):  # history from before the replay
        predictor.observe(job(0, 1, 1000.0, 100.0, "a"), 100.0, 0.0)
    jobs = [
        job(1, 3, 1000.0, a_runtime, "a"),
        job(2, 3, 1000.0, 1000.0, "b"),
        job(3, 1, 50.0, 50.0, "c"),
        job(4, 2, 500.0, 500.0, "h"),
        job(5, 1, 2000.0, 2000.0, "d"),
        job(6, 1, 20.0, 20.0, "e"),
    ]
    profile = Profile(order="fcfs", backfill="easy")
    sim = PlacementSimulation(jobs, book, profile, predictor, sel.index, tick=60.0)
    out = sim.run()
    assert not out.rejected and np.isfinite(out.start).all()
    return out


def test_planning_on_requests_does_not_hold_the_head() -> None:
    out = simulate("user", a_runtime=100.0)  # one leaf frees at 1,000 by the requests: 950 s past 50
    assert (out.start[3], out.leaves[3]) == (50.0, 2)
    assert out.start[4] == 100.0  # plain EASY kept the long one-node job off the head's nodes


def test_planning_on_predicted_ends_holds_the_head_for_one_leaf() -> None:
    out = simulate("last2", a_runtime=100.0)  # last2 expects leaf 0 free at 100: within the 200 s hold
    assert (out.start[3], out.leaves[3]) == (100.0, 1)
    assert out.start[4] == 0.0  # the long job runs off the held leaf
    assert out.start[5] == 50.0  # the short one uses a held node: it ends (70) before the reservation (100)


def test_a_too_short_prediction_is_corrected_and_the_head_waits_for_the_real_end() -> None:
    out = simulate("last2", a_runtime=600.0)  # A outlives its 100 s prediction: extended to its request
    assert out.end[0] == 600.0
    assert (out.start[3], out.leaves[3]) == (600.0, 1)  # the long job holds the other free node (EASY's price
    # of an underprediction), so the head starts in leaf 0 when A really ends

"""Placement simulator: every overrun of an instant is extended before the cycle at that instant, so a
running job past its prediction never lends its nodes to another job (the engine's contract)."""

from __future__ import annotations

import numpy as np
import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementSimulation


def job(jid: int, submit: float, limit: float, runtime: float) -> JobSpec:
    return JobSpec(jid, submit, tasks=8, nodes=1, exclusive=True, time_limit=limit, runtime=runtime, user="u")


@pytest.mark.parametrize("aware", [False, True])
@pytest.mark.parametrize("tick", [0.0, 50.0])
def test_two_overruns_at_one_instant_keep_their_nodes(aware: bool, tick: float) -> None:
    """Two nodes; A and B ask 100 s and run 200 s, so both overrun at 100. C (one node) must wait for 200:
    had the cycle after A's correction run before B's, B would count as ended and C would start on its node."""
    topo = Topology.tree(2, (2,), ("switch",))
    base = Cluster.uniform(2, Resources(cpus=8))
    sel = TopologySelector(topo)
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel if aware else None)
    jobs = [job(1, 0.0, 100.0, 200.0), job(2, 0.0, 100.0, 200.0), job(3, 10.0, 50.0, 50.0)]
    profile = Profile(order="fcfs", backfill="easy")
    sim = PlacementSimulation(jobs, book, profile, make_predictor("user"), sel.index, tick=tick)
    out = sim.run()
    assert np.array_equal(out.start, [0.0, 0.0, 200.0])
    assert (book.free == book.table.capacity).all()

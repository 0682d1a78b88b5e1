"""The default [placement] weights place as before weights reached the selector: the data-aware topology part is
normalised to the levels the job may span (not the whole tree), and without data costs the lowest level that
fits wins however deep the tree. `hal explain` shows and ranks the parts as the selector does (review of
11a4a03: the topology part had shrunk for capped jobs, and a tree deeper than ten levels traded a level for
less fragmentation)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement_explain import alternatives
from hal.engine.plugins.placement_parts import parts_of, room_of
from hal.engine.plugins.score import PlacementWeights
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


class _Cost:
    """Data costs given per node (normalised), no cache limits, every node data-local."""

    def __init__(self, cost: npt.NDArray[np.float64]) -> None:
        self.cost = cost

    def normalized(self, inputs: tuple[str, ...]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        return self.cost, np.ones(self.cost.size, dtype=bool)

    def stage_seconds(self, inputs: tuple[str, ...]) -> npt.NDArray[np.float64]:
        return np.zeros(self.cost.size)

    def fits(self, inputs: tuple[str, ...]) -> list[npt.NDArray[np.bool_]]:
        return []


def _table(topo: Topology, n: int, cpus: int, free: dict[int, int]) -> NodeTable:
    base = Cluster.uniform(n, Resources(cpus=cpus))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    table.free[:, 0] = [free.get(i, 0) for i in range(n)]
    return table


def test_data_aware_topology_part_spans_the_levels_the_job_may_use() -> None:
    """-N2 --topology required=rack: switch0 (nodes 0, 1; their data cost 1) or across rack1's switches (nodes 8,
    12; data local). Over the job's levels (node..rack) the switch's topology part is 0.5 and the two totals tie,
    so the lower level wins, as before; normalised to the whole tree it was 0.25 and data cost won."""
    topo = Topology.tree(16, (2, 2, 4), ("spine", "rack", "switch"))
    table = _table(topo, 16, 8, {0: 8, 1: 8, 8: 8, 12: 8})
    cost = np.where(np.arange(16) < 8, 1.0, 0.0)
    sel = TopologySelector(topo, TopologyArgs(), data=_Cost(cost))
    book = NodeBook(table, selector=sel)
    spec = JobSpec(1, 0.0, tasks=16, nodes=2, exclusive=True, time_limit=60.0, inputs=("d",), topology_required="rack")
    req = request_of(spec, table.space)
    room, _ = room_of(book, req)
    alloc = book.allocate(req)
    assert alloc is not None and sorted(int(n) for n in alloc.nodes) == [0, 1]
    assert sel.bounds(req) == (0, sel.index.level("rack"))
    parts = parts_of(sel, req, np.asarray(alloc.nodes, dtype=np.intp), room)
    assert parts.topology == 0.5  # what `hal explain` shows is what the selector ranked


def _deep() -> tuple[NodeBook, TopologySelector, NodeTable]:
    """A 15-level tree (single-child levels above 2 x 2 leaves of 8 nodes): leaf 0's nodes have 3 free cpus each
    (the leaf fits a 4-task job, 20 left over; no node does); nodes 16, 17, 24 and 25 one each (the level-2
    domain of leaves 2 and 3 fits it exactly, nothing left over)."""
    topo = Topology.tree(32, (1,) * 12 + (2, 2, 8), tuple(f"l{i}" for i in range(15)))
    table = _table(topo, 32, 8, {**{i: 3 for i in range(8)}, 16: 1, 17: 1, 24: 1, 25: 1})
    sel = TopologySelector(topo, TopologyArgs())
    return NodeBook(table, selector=sel), sel, table


def test_default_weights_take_the_lowest_level_that_fits_on_a_deep_tree() -> None:
    book, sel, table = _deep()
    assert sel.index.top > 10
    req = request_of(JobSpec(1, 0.0, tasks=4, time_limit=60.0), table.space)
    alloc = book.allocate(req)
    chosen = sorted(int(n) for n in alloc.nodes)
    assert set(chosen) <= set(range(8))  # in leaf 0, as Slurm's tree takes it
    book.release(alloc)
    assert sel.by_level(req)
    others = alternatives(sel, book, req, chosen=tuple(chosen))
    names = sel.index.names
    assert others and all(names.index(p.level) >= 1 for p in others)  # none at a lower level than the chosen one
    assert "without data costs the lowest level that fits wins first" in PlacementWeights().formula()


def test_fragmentation_weighed_above_a_tenth_of_topology_ranks_by_the_total() -> None:
    weights = PlacementWeights(fragmentation=0.2)
    assert not weights.level_first and PlacementWeights(topology=3.0, fragmentation=0.3).level_first
    book, sel, table = _deep()
    sel.args = TopologyArgs(weights=weights)
    req = request_of(JobSpec(1, 0.0, tasks=4, time_limit=60.0), table.space)
    alloc = book.allocate(req)
    assert alloc is not None and sorted(int(n) for n in alloc.nodes) == [16, 17, 24, 25]
    assert "lowest level" not in weights.formula()

"""Topology: distances between nodes and how widely a set of nodes spans the tree."""

from __future__ import annotations

import pytest

from hal.model.topology import Topology


@pytest.fixture
def tree() -> Topology:
    # 8 nodes: 2 blocks of 2 switches of 2 nodes.
    return Topology.tree(8, (2, 2), ("block", "switch"))


def test_tree_paths(tree: Topology) -> None:
    assert tree.levels == ("block", "switch")
    assert tree.paths[0] == ("block0", "switch0")
    assert tree.paths[3] == ("block0", "switch1")
    assert tree.paths[4] == ("block1", "switch2")
    assert tree.leaf(7) == "switch3"


def test_distances(tree: Topology) -> None:
    assert tree.distance(2, 2) == 0
    assert tree.distance(0, 1) == 1  # same switch
    assert tree.distance(0, 2) == 2  # other switch, same block: one level above the switch
    assert tree.distance(0, 4) == 3  # other block: the whole cluster
    assert all(tree.distance(a, b) == tree.distance(b, a) for a in range(8) for b in range(8))


def test_span(tree: Topology) -> None:
    assert tree.span([]) == (0, 0)
    assert tree.span([5]) == (1, 0)
    assert tree.span([0, 1]) == (1, 1)
    assert tree.span([0, 1, 2]) == (2, 2)  # as TopoIndex.span: two leaves, the block above them
    assert tree.span([0, 7]) == (2, 3)


def test_flat_topology_is_one_switch() -> None:
    flat = Topology.flat(3)
    assert flat.span([0, 1, 2]) == (1, 1)
    assert flat.distance(0, 2) == 1


def test_bad_topologies_are_refused() -> None:
    with pytest.raises(ValueError, match="one name per level"):
        Topology(("block", "switch"), (("b0",),))
    with pytest.raises(ValueError, match="one fanout per level"):
        Topology.tree(4, (2,), ("block", "switch"))

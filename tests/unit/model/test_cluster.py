"""Clusters and the columnar node table built from them."""

from __future__ import annotations

import pytest

from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.resources import Resources
from hal.model.topology import Topology


def mixed() -> Cluster:
    nodes = (
        Node("cpu0", Resources(4, 1000)),
        Node("cpu1", Resources(4, 1000), ("fast",)),
        Node("gpu0", Resources(8, 4000, 2, {"lic": 1}), ("fast",)),
    )
    parts = (Partition("batch", ("cpu0", "cpu1", "gpu0"), default=True), Partition("gpu", ("gpu0",), max_time=3600))
    return Cluster(nodes, parts)


def test_uniform_cluster() -> None:
    c = Cluster.uniform(12, Resources(4, 100))
    assert [n.name for n in c.nodes][:2] == ["n000", "n001"]
    assert c.default_partition() == c.partition("batch")
    assert c.total() == Resources(48, 1200)
    assert c.topology is not None and len(c.topology.paths) == 12


def test_table_columns_and_masks() -> None:
    table = NodeTable.of(mixed())
    assert table.space.names == ("cpus", "mem_mb", "gpus", "lic")
    assert table.capacity.tolist() == [[4, 1000, 0, 0], [4, 1000, 0, 0], [8, 4000, 2, 1]]
    assert (table.free == table.capacity).all() and table.free is not table.capacity
    assert table.partition_masks["gpu"].tolist() == [False, False, True]
    assert table.feature_masks["fast"].tolist() == [False, True, True]
    assert len(table) == 3 and table.nodelist([0, 2]) == "cpu0,gpu0"


def test_partition_lookup() -> None:
    c = mixed()
    assert c.partition("gpu").max_time == 3600
    with pytest.raises(KeyError, match="unknown partition 'debug'"):
        c.partition("debug")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Cluster(()), "at least one node"),
        (lambda: Cluster((Node("a", Resources(1)), Node("a", Resources(1)))), "unique"),
        (lambda: Cluster((Node("a", Resources(1)),), (Partition("p", ("a", "zz")),)), "unknown nodes"),
        (lambda: Cluster((Node("a", Resources(1)),), (), Topology.flat(2)), "one path per node"),
    ],
)
def test_bad_clusters_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]

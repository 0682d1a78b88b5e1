"""QA: with n[000-007] under switches s0 and s1 and n[008-015] in no switch, a -N 6 job was told "the largest has 4
(n008, n009, n010, n011 and 4 more in no switch of topology.conf: ...)", as if n008-n011 were that domain of 4; each
is a fabric of one node. The refusal names the largest listed domain, and the nodes in no switch apart."""

from __future__ import annotations

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

BASE = Cluster.uniform(16, Resources(cpus=1))
NAMES = [n.name for n in BASE.nodes]


def refusal(conf: str, nodes: int) -> str | None:
    topo = parse_topology_conf(conf, NAMES, lambda _: None)
    table = NodeTable.of(Cluster(BASE.nodes, BASE.partitions, topo))
    selector = TopologySelector(topo)
    selector.names = tuple(NAMES)  # as the server's selector has them
    book = NodeBook(table, selector=selector)
    return book.impossible(request_of(JobSpec(1, 0.0, tasks=nodes, nodes=nodes, exclusive=True), table.space))


def test_the_largest_switch_is_named_and_the_nodes_in_no_switch_apart() -> None:
    said = refusal("SwitchName=s0 Nodes=n[000-003]\nSwitchName=s1 Nodes=n[004-007]\n", 6)
    assert said is not None and said.endswith(
        "the largest has 4 (switch s0: n000, n001, n002, n003); n008, n009, n010, n011 and 4 more are in no switch "
        "of topology.conf: each a separate fabric of one node"
    ), said


def test_a_block_aggregation_is_named_likewise() -> None:
    said = refusal("BlockName=b0 Nodes=n[000-003]\nBlockName=b1 Nodes=n[004-007]\n", 9)
    assert said is not None and "the largest has 8 (block8 bs8-0: n000, n001, n002, n003 and 4 more); n008" in said
    assert said.endswith("are in no block of topology.conf: each a separate block of one node")

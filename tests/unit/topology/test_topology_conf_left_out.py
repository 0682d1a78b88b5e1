"""A topology.conf tree that leaves some of the cluster's nodes out: slurmctld warns ("switches lack access to N
nodes: ...") and starts; HAL refused the whole cluster file. Now the nodes are named in a warning and each is its
own fabric: jobs run there one node each, and no job spans one of them and other nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.topology import TopologySelector
from hal.engine.profile import Profile
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import TopologyConfError, parse_topology_conf

TREE = "SwitchName=s0 Nodes=n[000-002]\nSwitchName=s1 Nodes=n[004-005]\nSwitchName=top Switches=s[0-1]\n"
BASE = Cluster.uniform(8, Resources(cpus=1))
NAMES = [n.name for n in BASE.nodes]  # n000 ... n007: n003, n006 and n007 are under no switch


def test_left_out_nodes_are_a_warning_that_names_them() -> None:
    said: list[str] = []
    topo = parse_topology_conf(TREE, NAMES, said.append)
    assert said == [
        "topology.conf: no switch lists 3 node(s) of the cluster: n[003,006-007]; each is placed on its own, "
        "outside the tree: jobs run there, but none spans one of them and another node"
    ]
    assert topo.paths[0] == ("top", "s0") and topo.paths[4] == ("top", "s1")
    assert topo.paths[3] == ("noswitch:n003", "noswitch:n003") and len(set(topo.paths)) == 5
    assert not topo.connected  # the tree and each left-out node are separate fabrics


def test_no_node_of_the_cluster_under_any_switch_is_still_an_error() -> None:
    with pytest.raises(TopologyConfError, match="nodes without a switch"):
        parse_topology_conf("SwitchName=s0 Nodes=zz[0-3]\n", NAMES, lambda _: None)
    with pytest.raises(TopologyConfError, match="nodes without a block"):  # topology/block too
        parse_topology_conf("BlockName=b0 Nodes=zz[0-3]\n", NAMES, lambda _: None)


def test_a_switch_named_like_the_node_domain_is_not_merged_with_it() -> None:
    topo = parse_topology_conf("SwitchName=noswitch:n001 Nodes=n000\n", ["n000", "n001"], lambda _: None)
    assert topo.paths == (("noswitch:n001",), ("noswitch:n001'",)) and not topo.connected


def _req(table: NodeTable, nodes: int, **kw: object) -> Request:
    spec = JobSpec(nodes, 0.0, tasks=nodes, nodes=nodes, exclusive=True, **kw)  # type: ignore[arg-type]
    return request_of(spec, table.space)


@pytest.mark.parametrize("placement", ["topology", "firstfit", "bestfit"])
def test_placement_uses_the_left_out_nodes_one_job_each(placement: str) -> None:
    topo = parse_topology_conf(TREE, NAMES, lambda _: None)
    table = NodeTable.of(Cluster(BASE.nodes, BASE.partitions, topo))
    if placement == "topology":
        book: NodeBook = NodeBook(table, selector=TopologySelector(topo))
    else:
        book = placement_book(table, Profile(placement=placement), topo)
    five = book.allocate(_req(table, 5))  # the whole tree, and nothing else
    assert five is not None and sorted(five.nodes.tolist()) == [0, 1, 2, 4, 5]
    assert book.allocate(_req(table, 2)) is None  # n003, n006, n007 are free, but no switch links two of them
    singles = [book.allocate(_req(table, 1)) for _ in range(3)]
    assert sorted(int(a.nodes[0]) for a in singles if a is not None) == [3, 6, 7]
    assert book.impossible(_req(table, 6)) is not None  # wider than the tree: it can never run


def test_cluster_show_warns_and_loads(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text(TREE)
    cluster = tmp_path / "c.toml"
    cluster.write_text('[[nodes]]\nprefix = "n"\ncount = 8\n[topology]\nslurm_conf = "topology.conf"\n')
    result = CliRunner().invoke(app, ["cluster", "show", str(cluster)])
    assert result.exit_code == 0, result.stderr
    assert "no switch lists 3 node(s) of the cluster: n[003,006-007]" in " ".join(result.stderr.split())

"""Cluster nodes topology.conf puts in no switch or block. The block form refused them (`nodes without a block`)
while slurmctld warns ("blocks lack access to N nodes") and starts: each is now its own block, as the tree form
makes each its own fabric. And what HAL shows of such nodes: `hal cluster show` counted each as a tier1 and a
switch, `hal nodes` showed noswitch:c07/noswitch:c07, `-N2 -w c[07-08]` was refused as "within one tier1", and
`hal explain` blamed a plain -N2 job's --switches, --segment or topology level, none of which it asked for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.api.server import ServerOptions, build
from hal.api.views import nodes_view
from hal.cli.explain import topology_advice
from hal.cli.main import app
from hal.cli.nodes import _where
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import TopologyConfError, parse_topology_conf

BLOCKS = "BlockName=blk1 Nodes=b[01-02]\nBlockName=blk2 Nodes=b[03-04]\nBlockName=blk3 Nodes=b[05-06]\n"
TREE = "SwitchName=s1 Nodes=c[01-03]\nSwitchName=s2 Nodes=c[04-06]\nSwitchName=top Switches=s[1-2]\n"


def _cluster(tmp: Path, prefix: str, conf: str) -> Path:
    (tmp / "topology.conf").write_text(conf)
    path = tmp / "c.toml"
    path.write_text(
        f'name = "q"\n[[nodes]]\nnames = "{prefix}[01-08]"\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    return path


def _table(conf: str, prefix: str) -> tuple[Any, NodeTable]:
    names = [f"{prefix}{i:02d}" for i in range(1, 9)]
    topo = parse_topology_conf(conf, names, lambda _: None)
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("batch",)) for n in names)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(names), default=True),), topo))
    return placement_book(table, Profile(placement="topology"), topo), table


def test_block_nodes_in_no_block_are_a_warning_and_each_its_own_block() -> None:
    said: list[str] = []
    names = [f"b{i:02d}" for i in range(1, 9)]
    topo = parse_topology_conf(BLOCKS, names, said.append)
    assert said == [
        "topology.conf: no block lists 2 node(s) of the cluster: b[07-08]; each is placed on its own, outside the "
        "blocks: jobs run there, but none spans one of them and another node"
    ]
    assert topo.paths[6] == ("noblock:b07",) * 3 and topo.paths[0] == ("bs8-0", "bs4-0", "blk1")
    assert topo.outside == frozenset({6, 7}) and not topo.connected
    with pytest.raises(TopologyConfError, match="nodes without a block"):  # no cluster node in any block
        parse_topology_conf("BlockName=b0 Nodes=zz[0-3]\n", names, lambda _: None)


def test_no_job_spans_a_node_in_no_block_and_another() -> None:
    book, table = _table(BLOCKS, "b")
    six = book.allocate(request_of(JobSpec(1, 0.0, tasks=6, nodes=6, exclusive=True), table.space))
    assert six is not None and sorted(six.nodes.tolist()) == [0, 1, 2, 3, 4, 5]
    assert book.allocate(request_of(JobSpec(2, 0.0, tasks=2, nodes=2, exclusive=True), table.space)) is None
    one = book.allocate(request_of(JobSpec(3, 0.0, tasks=1, nodes=1, exclusive=True), table.space))
    assert one is not None and int(one.nodes[0]) in (6, 7)


@pytest.mark.parametrize(("prefix", "conf", "kind"), [("c", TREE, "switch"), ("b", BLOCKS, "block")])
def test_a_job_on_nodes_in_no_switch_only_is_told_they_are_apart(prefix: str, conf: str, kind: str) -> None:
    book, table = _table(conf, prefix)
    spec = JobSpec(1, 0.0, tasks=2, nodes=2, node_names=(f"{prefix}07", f"{prefix}08"))
    said = book.impossible(request_of(spec, table.space)) or ""
    assert f"the nodes it may use ({prefix}07, {prefix}08) are each in no {kind} of topology.conf" in said, said
    assert "tier1" not in said


def test_cluster_show_counts_real_switches_and_names_the_nodes_in_none(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cluster", "show", str(_cluster(tmp_path, "c", TREE))])
    assert result.exit_code == 0, result.stderr
    assert "topology: 1 tier1(s) > 2 switch(s); 2 node(s) in no switch: c[07-08]" in result.stdout
    shown = CliRunner().invoke(app, ["cluster", "show", "--json", str(_cluster(tmp_path, "b", BLOCKS))])
    assert '"block": 3' in shown.stdout and '"topology_outside": 2' in shown.stdout


@contextmanager
def _controller(tmp: Path) -> Iterator[Any]:
    ctl, _app, store, executor = build(
        ServerOptions(home=tmp / "home", executor="dev", cluster=_cluster(tmp, "c", TREE))
    )
    try:
        yield ctl
    finally:
        executor.shutdown()
        store.close()


def test_hal_nodes_shows_no_switch_for_them(tmp_path: Path) -> None:
    with _controller(tmp_path) as ctl:
        nodes = {n["name"]: n for n in nodes_view(ctl)["nodes"]}
    assert nodes["c07"]["topology_outside"] == "switch" and nodes["c01"]["topology_outside"] is None
    assert _where(nodes["c07"]) == "(no switch)" and _where(nodes["c01"]) == "top/s1"


def test_explain_names_what_holds_a_job_that_asked_for_no_topology() -> None:
    plain = topology_advice({"placement_request": {}})
    assert "--switches" not in plain and "separate switch fabrics" in plain
    switches = {"placement_request": {"switches": 1}}
    assert "its --switches=1 (nor" in topology_advice(switches, None, [])  # no placement in one domain either
    assert topology_advice(switches) == "free nodes exist, but not within its --switches=1"  # unknown: not claimed
    both = topology_advice({"placement_request": {"segment": 2, "topology_required": "block"}})
    assert "its --segment=2 and --topology required=block" in both


def test_cluster_show_names_the_level_spanning_blocks_without_a_second_plural(tmp_path: Path) -> None:
    """QA: with BlockSizes the level above the largest aggregation is named "blocks", shown "1 blocks(s)"."""
    (tmp_path / "topology.conf").write_text(
        "".join(f"BlockName=b{i} Nodes=n[{3 * i:03d}-{3 * i + 2:03d}]\n" for i in range(4)) + "BlockSizes=3\n"
    )
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\n[[nodes]]\nprefix = "n"\ncount = 12\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    result = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert result.exit_code == 0 and "topology: 1 blocks > 4 block(s)" in result.stdout, result.stdout

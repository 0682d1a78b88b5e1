"""Slurm topology.conf import: the tree and block forms, and errors that name the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import cluster_from_dict
from hal.engine.plugins.topology import TopoIndex
from hal.topology_conf import TopologyConfError, parse_topology_conf

NODES = [f"dev{i}" for i in range(12)]


def test_tree_form_with_continuation_and_comments() -> None:
    text = """# a two-level fat tree
SwitchName=s0 Nodes=dev[0-5]
SwitchName=s1 Nodes=dev[6-9]
SwitchName=s2 Nodes=dev[10-11]
SwitchName=spine Switches=s[0-1] \\
    LinkSpeed=100
SwitchName=top Switches=spine,s2
"""
    topo = parse_topology_conf(text, NODES)
    assert topo.levels == ("tier2", "tier1", "switch")
    assert topo.paths[0] == ("top", "spine", "s0") and topo.paths[11] == ("top", "top", "s2")
    ix = TopoIndex(topo)
    assert ix.span(__import__("numpy").array([0, 7]))[1] == 2  # s0 and s1 meet at the spine


def test_block_form() -> None:
    text = "BlockName=b1 Nodes=dev[0-5]\nBlockName=b2 Nodes=dev[6-11]\nBlockSizes=6,12\n"
    topo = parse_topology_conf(text, NODES)
    assert topo.levels == ("block",) and topo.paths[6] == ("b2",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SwitchName=s0 Nodes=dev[0-10]\n", "without a switch"),
        ("SwitchName=s0 Nodes=dev[0-11],gpu1\n", "not in the cluster"),
        ("SwitchName=s0 Nodes=dev[0-11]\nSwitchName=s1 Switches=s9\n", "not defined"),
        ("BlockName=b Nodes=dev[0-11]\nSwitchName=s Nodes=dev0\n", "either"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(TopologyConfError, match=message):
        parse_topology_conf(text, NODES)


def test_cluster_file_reads_topology_conf(tmp_path: Path) -> None:
    conf = tmp_path / "topology.conf"
    conf.write_text("BlockName=b1 Nodes=n[000-001]\nBlockName=b2 Nodes=n[002-003]\n")
    cluster = cluster_from_dict(
        {"nodes": [{"prefix": "n", "count": 4, "cpus": 8}], "topology": {"slurm_conf": str(conf)}}
    )
    assert cluster.topology is not None and cluster.topology.paths[3] == ("b2",)
    blocks = cluster_from_dict({"nodes": [{"prefix": "n", "count": 36, "cpus": 8}], "topology": {"block_size": 18}})
    assert blocks.topology is not None and blocks.topology.paths[20] == ("block1",)

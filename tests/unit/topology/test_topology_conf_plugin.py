"""QA (a Slurm site admin): a topology.conf with both SwitchName= and BlockName= lines (clusters mixing NVL72 racks
and standard nodes) was refused, while slurm.conf's TopologyPlugin chooses the lines Slurm uses: the cluster
file's ``[topology] plugin`` now does. Disjoint switch fabrics were accepted without a word (Slurm warns that no
switch reaches all nodes); errors gave a line but no file, a switch loop not even a line; and the level names an
imported topology.conf gets were met only in an error that did not say where they come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import ClusterFileError, load_cluster
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import TopologyConfError, parse_topology_conf

NAMES = [f"n{i:02d}" for i in range(8)]
MIXED = (
    "# generated: NVL72 racks and standard nodes\n"
    "SwitchName=leaf0 Nodes=n[00-03]\n"
    "SwitchName=leaf1 Nodes=n[04-07]\n"
    "SwitchName=spine Switches=leaf[0-1]\n"
    "BlockName=rack0 Nodes=n[00-03]\n"
    "BlockName=rack1 Nodes=n[04-07]\n"
    "BlockSizes=4,8\n"
)


def _cluster(tmp: Path, conf: str, topology: str = "") -> Path:
    (tmp / "topology.conf").write_text(conf)
    path = tmp / "c.toml"
    path.write_text(f'[[nodes]]\nnames = "n[00-07]"\ncpus = 2\n[topology]\nslurm_conf = "topology.conf"\n{topology}')
    return path


def test_both_kinds_of_lines_without_a_choice_are_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError) as err:
        load_cluster(_cluster(tmp_path, MIXED))
    said = str(err.value)
    assert said.startswith(f"[topology]: {tmp_path / 'topology.conf'}: both SwitchName= lines"), said
    assert '[topology] plugin = "tree" or "block"' in said and "TopologyPlugin" in said, said


@pytest.mark.parametrize("plugin", ["tree", "topology/tree"])
def test_the_tree_plugin_uses_the_switches_and_notes_the_blocks_it_ignores(tmp_path: Path, plugin: str) -> None:
    said: list[str] = []
    cluster = load_cluster(_cluster(tmp_path, MIXED, f'plugin = "{plugin}"\n'), warn=said.append)
    topo = cluster.topology
    assert topo is not None and topo.levels == ("tier1", "switch") and topo.paths[5] == ("spine", "leaf1")
    assert said == [
        f'{tmp_path / "topology.conf"}: plugin = "tree": its BlockName=/BlockSizes= lines (lines 5-7) are ignored, '
        "as Slurm's topology/tree ignores them"
    ]


@pytest.mark.parametrize("plugin", ["block", "topology/block"])
def test_the_block_plugin_uses_the_blocks_and_notes_the_switches_it_ignores(tmp_path: Path, plugin: str) -> None:
    said: list[str] = []
    cluster = load_cluster(_cluster(tmp_path, MIXED, f'plugin = "{plugin}"\n'), warn=said.append)
    topo = cluster.topology
    assert topo is not None and topo.levels == ("block8", "block") and topo.paths[5] == ("bs8-0", "rack1")
    assert len(said) == 1 and said[0].endswith(
        'plugin = "block": its SwitchName= lines (lines 2-4) are ignored, as Slurm\'s topology/block ignores them'
    )


def test_ignored_lines_are_still_read_for_syntax_and_a_plugin_needs_its_own_lines() -> None:
    with pytest.raises(TopologyConfError, match=r"^topology.conf line 8: unknown key 'nodez'"):
        parse_topology_conf(MIXED + "BlockName=rack2 Nodez=n01\n", NAMES, plugin="tree")
    with pytest.raises(TopologyConfError, match=r"line 1: a line is a switch .* or a block .*, not both"):
        parse_topology_conf("SwitchName=s BlockName=b Nodes=n[00-07]\n", NAMES, plugin="tree")
    with pytest.raises(TopologyConfError, match='plugin = "block", but there are no BlockName= lines, only Switch'):
        parse_topology_conf("SwitchName=s Nodes=n[00-07]\n", NAMES, plugin="block")
    only_blocks = parse_topology_conf("BlockName=b0 Nodes=n[00-07]\n", NAMES, lambda _: None, plugin="block")
    assert only_blocks.levels == ("block",)  # a plugin matching the file: no note, as without one


def test_the_plugin_setting_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError, match=r"plugin = 'topology/torus': \"tree\" or \"block\""):
        load_cluster(_cluster(tmp_path, MIXED, 'plugin = "topology/torus"\n'))
    flat = tmp_path / "f.toml"
    flat.write_text('[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nblock_size = 2\nplugin = "block"\n')
    with pytest.raises(ClusterFileError, match="give slurm_conf too"):
        load_cluster(flat)


def test_disjoint_fabrics_are_a_warning_in_cluster_show(tmp_path: Path) -> None:
    """Two leaves and the top switch forgotten: accepted (as Slurm does), no longer in silence."""
    path = _cluster(tmp_path, "SwitchName=leafA Nodes=n[00-03]\nSwitchName=leafB Nodes=n[04-07]\n")
    result = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert result.exit_code == 0 and "topology: 2 switch(s)" in result.stdout, result.output
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'topology.conf'}: no switch reaches all nodes: the switches form 2 separate fabrics "
        "(top switches 'leafA', 'leafB'), and no job spans two of them, as in Slurm; a switch listing 'leafA', "
        "'leafB' in Switches= joins them"
    ]
    said: list[str] = []
    parse_topology_conf("SwitchName=a Nodes=n[00-03]\nSwitchName=b Nodes=n[04-07]\nSwitchName=t Switches=a,b\n",
                        NAMES, said.append)  # fmt: skip
    assert said == []  # one fabric: nothing to say


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SwitchName=s0 Nodes=n[00-07]\nSwitchName=core Switches=spine\nSwitchName=spine Switches=core\n",
            "line 2: switch loop: 'core' lists 'spine', which lists 'core' (Switches=)",
        ),
        ("SwitchName=s0 Nodes=n[00-07]\nSwitchName=a Switches=a\n", "line 2: switch loop: 'a' lists 'a' (Switches=)"),
        ("BlockName=a Nodes=n[00-03]\nBlockName=a Nodes=n[04-05]\n", "line 2: block 'a' is already defined at"),
        ("BlockName=a Nodes=n[00-03]\nBlockName=b Nodes=n[04-05]\nBlockSizes=4,6\n", "line 3: BlockSizes=4,6: "),
        ("SwitchName=s0 Nodes=n[00-07] Switch=s1\n", "line 1: unknown key 'switch'"),
    ],
)
def test_every_error_names_the_file_and_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ClusterFileError) as err:
        load_cluster(_cluster(tmp_path, text))
    assert str(err.value).startswith(f"[topology]: {tmp_path / 'topology.conf'} {message}"), str(err.value)


def test_a_misnamed_level_is_told_where_the_level_names_come_from() -> None:
    tree = "SwitchName=s0 Nodes=n[00-03]\nSwitchName=s1 Nodes=n[04-07]\nSwitchName=top Switches=s[0-1]\n"
    blocks = "BlockName=b0 Nodes=n[00-03]\nBlockName=b1 Nodes=n[04-07]\nBlockSizes=4,8\n"
    said = {}
    for kind, text in (("tree", tree), ("block", blocks)):
        topo = parse_topology_conf(text, NAMES)
        base = Cluster.uniform(8, Resources(cpus=1))
        table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
        req = request_of(JobSpec(1, 0.0, tasks=2, nodes=2, topology_required="leaf"), table.space)
        said[kind] = TopologySelector(topo).why(req, table.free[:, 0].astype("int64"), 2) or ""
    assert said["tree"] == (
        "unknown topology level 'leaf'; levels are ['switch', 'tier1'] (the names HAL gives topology.conf's "
        "switches: 'switch' for the leaf switches (Nodes=), 'tier1', 'tier2', ... for each level of switches above "
        "them, and 'cluster' for the whole machine)"
    )
    assert "levels are ['block', 'block8'] (the names HAL gives topology.conf's blocks: 'block' for a" in said["block"]

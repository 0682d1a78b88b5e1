"""The lines of the form the plugin ignores (BlockName=/BlockSizes= under plugin "tree", SwitchName= under "block")
were checked for their keys only: a malformed hostlist or BlockSizes= there was accepted in silence, while Slurm
parses the whole file (QA LOW). They are checked as the used form's lines are, naming the file and the line, and
are still not placed on."""

from __future__ import annotations

import pytest

from hal.topology_conf import TopologyConfError, parse_topology_conf

NAMES = [f"n{i:02d}" for i in range(8)]
SWITCHES = "SwitchName=leaf0 Nodes=n[00-03]\nSwitchName=leaf1 Nodes=n[04-07]\nSwitchName=spine Switches=leaf[0-1]\n"
BLOCKS = "BlockName=rack0 Nodes=n[00-03]\nBlockName=rack1 Nodes=n[04-07]\nBlockSizes=4,8\n"


def parse(text: str, plugin: str) -> None:
    parse_topology_conf(text, NAMES, lambda _: None, plugin=plugin, source="t.conf")


@pytest.mark.parametrize(
    ("ignored", "message"),
    [
        ("BlockName=rack0 Nodes=n[00-03\nBlockName=rack1 Nodes=n[04-07]\n", "t.conf line 4: invalid hostlist"),
        ("BlockName=rack0 Nodes=n[00-03]\nBlockSizes=4,6\n", "t.conf line 5: BlockSizes=4,6: increasing node counts"),
        ("BlockName=rack0 Nodes=n[00-03]\nBlockSizes=four\n", "t.conf line 5: BlockSizes=four is not a list"),
        ("BlockName=r Nodes=n00\nBlockSizes=1\nBlockSizes=2\n", "t.conf line 6: BlockSizes= is already given at"),
        ("BlockSizes=4\n", "t.conf line 4: BlockSizes= without BlockName= lines"),
        ("BlockName=r Nodes=n00\nBlockName=r Nodes=n01\n", "t.conf line 5: block 'r' is already defined at line 4"),
        ("BlockName=r\n", "t.conf line 4: block 'r' has no Nodes="),
        ("BlockName=a Nodes=n[00-03]\nBlockName=b Nodes=n[03-07]\n", "t.conf line 5: node 'n03' is already under"),
    ],
)
def test_ignored_block_lines_are_checked_under_the_tree_plugin(ignored: str, message: str) -> None:
    with pytest.raises(TopologyConfError, match=f"^{message}"):
        parse(SWITCHES + ignored, "tree")


@pytest.mark.parametrize(
    ("ignored", "message"),
    [
        ("SwitchName=s0 Nodes=n[00-03\n", "t.conf line 4: invalid hostlist"),
        ("SwitchName=top Switches=s[0-\n", "t.conf line 4: invalid hostlist"),
        ("SwitchName=top Switches=s9\n", "t.conf line 4: switch 's9' is not defined"),
        ("SwitchName=s0 Nodes=n00\nSwitchName=s0 Nodes=n01\n", "t.conf line 5: switch 's0' is already defined"),
        ("SwitchName=a Switches=b\nSwitchName=b Switches=a\n", "t.conf line 4: switch loop: 'a' lists 'b'"),
    ],
)
def test_ignored_switch_lines_are_checked_under_the_block_plugin(ignored: str, message: str) -> None:
    with pytest.raises(TopologyConfError, match=f"^{message}"):
        parse(BLOCKS + ignored, "block")


def test_well_formed_ignored_lines_are_still_not_used() -> None:
    """Checked, not placed on: nodes the cluster lacks or blocks smaller than the base are no error there."""
    said: list[str] = []
    topo = parse_topology_conf(SWITCHES + "BlockName=r0 Nodes=x[1-9]\nBlockName=r1 Nodes=n00\n", NAMES, said.append,
                               plugin="tree")  # fmt: skip
    assert topo.levels == ("tier1", "switch") and said == [
        'topology.conf: plugin = "tree": its BlockName=/BlockSizes= lines (lines 4-5) are ignored, as Slurm\'s '
        "topology/tree ignores them"
    ]
    topo = parse_topology_conf(BLOCKS + "SwitchName=x Nodes=login[1-2]\n", NAMES, said.append, plugin="block")
    assert topo.levels == ("block8", "block")

"""topology.conf pairs with spaces around '=' are read as Slurm reads them (parse_config.c's keyvalue_pattern allows
whitespace on both sides of '='): `Nodes = n[0-7]` was refused as "expected Key=Value pairs, got 'Nodes'" and
`Nodes= n[0-7]` as "Nodes= is empty" (QA)."""

from __future__ import annotations

import pytest

from hal.topology_conf import TopologyConfError, parse_topology_conf

NAMES = [f"n{i:03d}" for i in range(16)]


@pytest.mark.parametrize(
    "text",
    [
        "SwitchName=s0 Nodes = n[000-007]\nSwitchName=s1 Nodes=n[008-015]\nSwitchName=top Switches=s[0-1]\n",
        "SwitchName = s0 Nodes= n[000-007]\nSwitchName=s1 Nodes =n[008-015]\nSwitchName=top Switches = s[0-1]\n",
        "SwitchName=s0\tNodes\t=\tn[000-007]\nSwitchName=s1 Nodes=n[008-015]\nSwitchName=top Switches=s0,s1\n",
    ],
)
def test_a_tree_with_spaces_around_equals_is_read(text: str) -> None:
    topo = parse_topology_conf(text, NAMES)
    assert topo.levels == ("tier1", "switch") and not topo.outside
    assert topo.paths[0] == ("top", "s0") and topo.paths[15] == ("top", "s1")


def test_blocks_and_their_sizes_with_spaces_around_equals_are_read() -> None:
    text = "BlockName = b0 Nodes = n[000-007]\nBlockName=b1 Nodes= n[008-015]\nBlockSizes = 8,16\n"
    topo = parse_topology_conf(text, NAMES)
    assert topo.paths[0][-1] == "b0" and topo.paths[15][-1] == "b1" and not topo.outside


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SwitchName=s0 Nodes= Switches=s1\n", "Nodes= is empty"),  # the next pair is no value of Nodes=
        ("SwitchName=s0 Nodes =\n", "Nodes= is empty"),
        ("SwitchName= Nodes=n[000-015]\n", "SwitchName= needs a name"),
        ("SwitchName=s0 Nodes = n[000-015] foo\n", "expected Key=Value pairs, got 'foo'"),
        ("SwitchName=s0 Nodes = n[000-007] Nodes = n[008-015]\n", "Nodes= given twice"),
    ],
)
def test_what_stays_refused_with_spaces(text: str, message: str) -> None:
    with pytest.raises(TopologyConfError) as err:
        parse_topology_conf(text, NAMES)
    assert str(err.value) == f"topology.conf line 1: {message}"

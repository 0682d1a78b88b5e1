"""topology.conf (tree form) shapes slurmctld takes, with a warning or silently (switch_record.c), that HAL refused,
so a site could not import its file unedited (QA): a node under two leaf switches, a switch under two parents, a
switch of both Nodes= and Switches=, a switch of neither. And a file none of whose node names is the cluster's says
so (and hints at zero-padding)."""

from __future__ import annotations

import pytest

from hal.topology_conf import TopologyConfError, parse_topology_conf

NODES = [f"node{i:02d}" for i in range(1, 9)]


def parse(text: str) -> tuple[list[tuple[str, ...]], tuple[str, ...], list[str]]:
    said: list[str] = []
    topo = parse_topology_conf(text, NODES, said.append)
    return [tuple(p) for p in topo.paths], topo.levels, said


def test_a_node_under_two_leaf_switches_stays_under_the_first() -> None:
    paths, _, said = parse(
        "SwitchName=s1 Nodes=node[01-05]\nSwitchName=s2 Nodes=node[05-08]\nSwitchName=top Switches=s1,s2\n"
    )
    assert paths[4] == ("top", "s1") and paths[5] == ("top", "s2")
    assert said == [
        "topology.conf line 2: Multiple leaf switches contain nodes: node05 in both 's1' (line 1) and 's2'; HAL's "
        "tree has one leaf switch per node, so they stay under 's1' (the first line that lists them)"
    ]


def test_a_switch_under_two_parents_stays_under_the_first() -> None:
    paths, levels, said = parse(
        "SwitchName=s1 Nodes=node[01-04]\nSwitchName=s2 Nodes=node[05-08]\n"
        "SwitchName=a Switches=s1,s2\nSwitchName=b Switches=s1\n"
    )
    assert levels == ("tier1", "switch") and paths[0] == ("a", "s1") and paths[7] == ("a", "s2")
    assert said[0].startswith(
        "topology.conf line 4: switch 's1' is in the Switches= of both 'a' (line 3) and 'b': Slurm takes both, but "
        "HAL's tree has one parent per switch, so it stays under 'a'"
    )
    assert said[1] == "topology.conf line 4: switch 'b' has no node of the cluster; left out (not in the tree)"


def test_a_loop_through_a_second_parent_is_still_refused() -> None:
    """'s1' keeps 'a' as its parent, but 'b' and 's1' list each other: slurmctld says it is not a tree."""
    with pytest.raises(TopologyConfError, match=r"line 3: switch loop: 's1' lists 'b', which lists 's1'"):
        parse(
            "SwitchName=a Switches=s1\nSwitchName=s2 Nodes=node[01-08]\nSwitchName=s1 Switches=b\n"
            "SwitchName=b Switches=s1,s2\n"
        )


def test_a_switch_of_nodes_and_switches_is_a_leaf() -> None:
    paths, _, said = parse("SwitchName=s1 Nodes=node[01-04] Switches=s2\nSwitchName=s2 Nodes=node[05-08]\n")
    assert paths[0] == ("s1",) and paths[7] == ("s2",)
    assert said[0] == (
        "topology.conf line 1: Ignoring children switches for s1 (Switches=s2): a switch with Nodes= is a leaf "
        "switch, as Slurm takes it"
    )


def test_a_switch_of_neither_is_an_empty_leaf_left_out() -> None:
    paths, _, said = parse("SwitchName=s0\nSwitchName=s1 Nodes=node[01-08]\n")
    assert set(paths) == {("s1",)}
    assert said == [
        "topology.conf line 1: switch 's0' has neither Nodes= nor Switches= (an empty leaf switch, as Slurm takes "
        "it); left out (not in the tree)"
    ]


def test_no_file_node_in_the_cluster_says_so_and_hints_at_zero_padding() -> None:
    with pytest.raises(TopologyConfError) as caught:
        parse("SwitchName=s1 Nodes=node[1-4]\nSwitchName=s2 Nodes=node[5-8]\n")
    assert "none of the file's node names (node[1-8]) is a node of the cluster" in str(caught.value)
    assert "zero-padding alone (e.g. the file's 'node1' is the cluster's 'node01')" in str(caught.value)
    with pytest.raises(TopologyConfError) as other:
        parse("SwitchName=s1 Nodes=gpu[1-4]\n")
    assert str(other.value).endswith("none of the file's node names (gpu[1-4]) is a node of the cluster")


def test_the_same_shapes_are_no_error_on_ignored_switch_lines() -> None:
    """Under plugin "block" the SwitchName= lines are checked as a tree's are, so what a tree takes passes too,
    without the tree's warnings (those lines are not used)."""
    said: list[str] = []
    ignored = (
        "SwitchName=s1 Nodes=node[01-05] Switches=s3\nSwitchName=s2 Nodes=node[05-08]\nSwitchName=s3\n"
        "SwitchName=a Switches=s2\nSwitchName=b Switches=s2\n"
    )
    topo = parse_topology_conf("BlockName=r0 Nodes=node[01-08]\n" + ignored, NODES, said.append, plugin="block")
    assert topo.levels[-1] == "block" and len(said) == 1 and "are ignored" in said[0]


def test_a_file_of_empty_switches_only_says_no_switch_lists_a_node() -> None:
    """It named the cluster's nodes as lacking a switch, which read as if the file had listed them (QA)."""
    with pytest.raises(TopologyConfError, match=r"no switch lists a node \(slurmctld: switches contain no nodes\)"):
        parse("SwitchName=s0\n")

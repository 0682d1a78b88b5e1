"""topology.conf nodes the cluster file does not have: named with their switch (or block), and a switch left
with no node named too (QA: `SwitchName=s1 Nodes=zz[0-1]` gave "1 switch(s)" and no word of s1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.topology_conf import parse_topology_conf

NODES = [f"dev{i}" for i in range(4)]


def test_a_switch_of_unknown_nodes_is_named_and_so_is_its_parent() -> None:
    said: list[str] = []
    text = (
        "SwitchName=s0 Nodes=dev[0-3]\nSwitchName=s1 Nodes=zz[0-1]\nSwitchName=s2 Nodes=dev9\n"
        "SwitchName=spine Switches=s[0-1]\nSwitchName=old Switches=s2\n"
    )
    topo = parse_topology_conf(text, NODES, said.append)
    assert set(topo.paths) == {("spine", "s0")}
    assert said == [
        "topology.conf line 2 (switch 's1'): ['zz0', 'zz1'] not in the cluster; ignored",
        "topology.conf line 3 (switch 's2'): ['dev9'] not in the cluster; ignored",
        "topology.conf line 2: switch 's1' has no node of the cluster; left out (not in the tree)",
        "topology.conf line 3: switch 's2' has no node of the cluster; left out (not in the tree)",
        "topology.conf line 5: switch 'old' has no node of the cluster; left out (not in the tree)",
    ]


def test_a_block_of_unknown_nodes_is_named(caplog: pytest.LogCaptureFixture) -> None:
    topo = parse_topology_conf("BlockName=b1 Nodes=dev[0-3],login1\nBlockName=b2 Nodes=gone[1-5]\n", NODES)
    assert set(topo.paths) == {("b1",)}
    assert "topology.conf line 1 (block 'b1'): ['login1'] not in the cluster; ignored" in caplog.text  # the log
    assert "(block 'b2'): ['gone1', 'gone2', 'gone3'] and 2 more not in the cluster; ignored" in caplog.text
    assert "topology.conf line 2: block 'b2' has no node of the cluster; left out" in caplog.text


def test_cluster_show_prints_the_warnings(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text("SwitchName=s0 Nodes=n[000-003]\nSwitchName=s1 Nodes=zz[0-1]\n")
    cluster = tmp_path / "c.toml"
    cluster.write_text('[[nodes]]\nprefix = "n"\ncount = 4\n[topology]\nslurm_conf = "topology.conf"\n')
    result = CliRunner().invoke(app, ["cluster", "show", str(cluster)])
    assert result.exit_code == 0 and "topology: 1 switch(s)" in result.stdout
    conf = tmp_path / "topology.conf"  # named as the cluster file reaches it (it said "topology.conf" alone)
    assert result.stderr.splitlines() == [
        f"warning: {conf} line 2 (switch 's1'): ['zz0', 'zz1'] not in the cluster; ignored",
        f"warning: {conf} line 2: switch 's1' has no node of the cluster; left out (not in the tree)",
    ]

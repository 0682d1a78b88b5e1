"""The node addresses in a switch tree that jobs see as SLURM_TOPOLOGY_ADDR."""

from __future__ import annotations

from pathlib import Path

from tests.unit.controller.topokit import ALTERNATING, BLOCKS, controller


def test_the_machine_gives_each_node_its_switches_on_a_tree_and_none_on_blocks(tmp_path: Path) -> None:
    """What SLURM_TOPOLOGY_ADDR is made of (executors/jobenv.py), as Slurm sets it under topology/tree only."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "blocks").mkdir()
    with controller(tmp_path / "tree", ALTERNATING) as ctl:
        assert ctl.machine.topology_addrs(["node03", "node10"]) == {"node03": ["top", "s0"], "node10": ["top", "s3"]}
    with controller(tmp_path / "blocks", BLOCKS) as ctl:
        assert ctl.machine.topology_addrs(["node01"]) == {}

"""SLURM_TOPOLOGY_ADDR and its _PATTERN on a block topology and without one, as Slurm's topology/block
(``b1.gpu01``, ``block.node``; a node in no block: ``gpu10``, ``node``) and topology/flat (``c01``, ``node``)
set them. QA: on an imported topology.conf with BlockName= lines, or the cluster file's block_size, both were
empty; a cluster without a [topology] table gave HAL's implicit switch (``sw0.c01``, ``switch.node``)."""

from __future__ import annotations

import json
from pathlib import Path

from hal.controller.machine import Machine
from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.jobenv import job_environment
from hal.executors.tasks import place, task_environment

BLOCKS = "BlockName=b1 Nodes=gpu[01-04]\nBlockName=b2 Nodes=gpu[05-08]\n"


def machine(tmp_path: Path, nodes: str, topology: str = "") -> Machine:
    (tmp_path / "c.toml").write_text(f'name = "t"\n[[nodes]]\nnames = "{nodes}"\ncpus = 2\n{topology}')
    return Machine.load(tmp_path / "c.toml")


def addresses(m: Machine, nodes: list[str]) -> list[tuple[str, str]]:
    """Each node's (SLURM_TOPOLOGY_ADDR, _PATTERN) in a job on ``nodes``: the batch shell's, then each task's."""
    spec = LaunchSpec(
        1, "j", "alice", "true\n", Path("/w"), "", "", tuple(NodeShare(n, (0,), 0) for n in nodes), len(nodes),
        env={"HAL_TOPOLOGY_ADDRS": json.dumps(m.topology_addrs(nodes))},
    )  # fmt: skip
    batch = job_environment(spec, {})
    tasks = place(spec.shares, len(nodes), 1, "block")
    envs = [batch, *(task_environment(batch, spec.shares, tasks, t) for t in tasks)]
    return [(e.get("SLURM_TOPOLOGY_ADDR", ""), e.get("SLURM_TOPOLOGY_ADDR_PATTERN", "")) for e in envs]


def test_an_imported_block_topology_gives_each_node_its_block(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text(BLOCKS)
    m = machine(tmp_path, "gpu[01-10]", '[topology]\nslurm_conf = "topology.conf"\n')  # gpu[09-10]: no block
    assert addresses(m, ["gpu01", "gpu06", "gpu10"]) == [
        ("b1.gpu01", "block.node"),  # the batch shell, on the first node
        ("b1.gpu01", "block.node"),
        ("b2.gpu06", "block.node"),
        ("gpu10", "node"),  # in no block: the node alone, as Slurm's common_topo_get_node_addr
    ]


def test_the_cluster_files_block_size_names_its_blocks(tmp_path: Path) -> None:
    m = machine(tmp_path, "c[01-10]", "[topology]\nblock_size = 4\n")
    assert addresses(m, ["c05", "c10"])[1:] == [("block1.c05", "block.node"), ("block2.c10", "block.node")]


def test_without_a_topology_the_address_is_the_node_alone(tmp_path: Path) -> None:
    m = machine(tmp_path, "c[01-04]")
    assert addresses(m, ["c01", "c02"]) == [("c01", "node"), ("c01", "node"), ("c02", "node")]


def test_a_switch_tree_keeps_its_switches(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text("SwitchName=s0 Nodes=c[01-02]\nSwitchName=s1 Nodes=c[03-04]\n"
                                            "SwitchName=top Switches=s[0-1]\n")  # fmt: skip
    m = machine(tmp_path, "c[01-04]", '[topology]\nslurm_conf = "topology.conf"\n')
    assert addresses(m, ["c03"])[0] == ("top.s1.c03", "switch.switch.node")
    levels = machine(tmp_path, "c[01-04]", '[topology]\nlevels = ["rack", "leaf"]\nfanouts = [2, 2]\n')
    assert addresses(levels, ["c04"])[0] == ("rack0.leaf1.c04", "switch.switch.node")


def test_a_submitters_address_is_not_kept(tmp_path: Path) -> None:
    """A job submitted from inside a job on another node: that node's address is not this job's."""
    outer = {"SLURM_TOPOLOGY_ADDR": "b2.gpu06", "SLURM_TOPOLOGY_ADDR_PATTERN": "block.node"}
    spec = LaunchSpec(2, "j", "alice", "true\n", Path("/w"), "", "", (NodeShare("gpu01", (0,), 0),), env=outer)
    env = job_environment(spec, {})
    assert "SLURM_TOPOLOGY_ADDR" not in env and "SLURM_TOPOLOGY_ADDR_PATTERN" not in env

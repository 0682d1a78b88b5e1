"""topology/block without BlockSizes=: Slurm enforces every power-of-two aggregation of the base block (1, 2, 4, 8
and 16 blocks, block_record.c's `bit_nset(block_levels, 0, 4)`), each aligned on consecutive blocks, and stops at
the first that holds every block. QA: on b[01-08] in four 2-node blocks, `-N3 --ntasks-per-node=2` got
b[04,07-08] (blk2 + blk4); it must take blk1+blk2 or blk3+blk4 (Slurm's eval_nodes_block picks the aggregation its
node count calls for, and waits for one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf
from tests.unit.controller.topokit import controller, submit

FOUR = "".join(f"BlockName=blk{i + 1} Nodes=b[{2 * i + 1:02d}-{2 * i + 2:02d}]\n" for i in range(4))


def _blocks(count: int, size: int = 2) -> tuple[str, list[str]]:
    names = [f"n{i:03d}" for i in range(count * size)]
    text = "".join(f"BlockName=k{b} Nodes={','.join(names[size * b : size * b + size])}\n" for b in range(count))
    return text, names


@pytest.mark.parametrize(
    ("count", "levels"),
    [
        (1, ("block",)),  # one block: no aggregation
        (2, ("block4", "block")),
        (3, ("block8", "block4", "block")),  # not a power of two: the 4-block group holds all three
        (4, ("block8", "block4", "block")),  # the 4-block group holds every block: 8 and 16 are left out
        (5, ("block16", "block8", "block4", "block")),
        # at most 16 blocks, as Slurm's default; a job larger than 16 blocks spans them all ("blocks": 40 nodes)
        (20, ("blocks", "block32", "block16", "block8", "block4", "block")),
    ],
)
def test_the_default_sizes_are_power_of_two_groups_up_to_every_block(count: int, levels: tuple[str, ...]) -> None:
    text, names = _blocks(count)
    topo = parse_topology_conf(text, names)
    assert topo.levels == levels
    sizes = {"blocks": 2 * count, "block": 2}
    assert topo.block_nodes == tuple(sizes.get(level) or int(level.removeprefix("block")) for level in levels)


def test_groups_are_aligned_and_a_trailing_group_holds_what_is_left() -> None:
    text, names = _blocks(5)
    topo = parse_topology_conf(text, names)
    assert topo.paths[4] == ("bs16-0", "bs8-0", "bs4-1", "k2")  # k2 pairs with k3, not with k1
    assert topo.paths[8] == ("bs16-0", "bs8-1", "bs4-2", "k4")  # k4 is alone below the group of all five


def test_block_sizes_beyond_every_block_are_left_out_as_slurm_does() -> None:
    """block_record_validate stops at the first size that holds every block."""
    text, names = _blocks(4)
    assert parse_topology_conf(text + "BlockSizes=2,4,8,16,32\n", names).levels == ("block8", "block4", "block")


def test_without_block_sizes_a_block_smaller_than_the_first_is_a_base_block_with_gaps() -> None:
    """slurmctld: the first block's node count is the base block size; a smaller block is a base block with gaps
    (Slurm 25.05 permits them; 24.11 and older were fatal)."""
    names = [f"n{i}" for i in range(6)]
    topo = parse_topology_conf("BlockName=a Nodes=n[0-3]\nBlockName=b Nodes=n[4-5]\n", names)
    assert topo.levels == ("block8", "block") and topo.paths[5] == ("bs8-0", "b")
    topo = parse_topology_conf("BlockName=b Nodes=n[4-5]\nBlockName=a Nodes=n[0-3]\n", names)
    assert topo.levels == ("block4", "block")  # the smaller block first: it is the base


def _pairs(blocks: int, cpus: int = 1, extra: str = "") -> tuple[NodeTable, Any]:
    """A cluster of ``blocks`` blocks of two nodes (``cpus`` each; ``extra`` topology.conf lines such as
    BlockSizes=), and its topology-placement book."""
    base = Cluster.uniform(2 * blocks, Resources(cpus=cpus))
    names = [n.name for n in base.nodes]
    text = "".join(f"BlockName=blk{i + 1} Nodes={names[2 * i]},{names[2 * i + 1]}\n" for i in range(blocks))
    topo = parse_topology_conf(text + extra, names)
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    return table, placement_book(table, Profile(placement="topology"), topo)


def test_a_three_node_job_takes_an_aligned_pair_of_blocks_or_waits() -> None:
    table, book = _pairs(4, cpus=2)
    three = request_of(JobSpec(1, 0.0, tasks=6, nodes=3), table.space)
    table.free[[0, 1, 2, 4, 5]] = 0  # free: b04 (blk2), b07 and b08 (blk4): no aligned pair has three
    assert book.allocate(three) is None and book.impossible(three) is None  # it waits
    table.free[[4, 5]] = table.capacity[[4, 5]]  # blk3 frees: blk3 + blk4 is an aligned pair
    got = book.allocate(three)
    assert got is not None and sorted(got.nodes.tolist()) == [4, 5, 6]


def test_three_blocks_a_pair_is_the_first_two_and_the_third_is_alone() -> None:
    table, book = _pairs(3)
    table.free[[0]] = 0
    four = request_of(JobSpec(1, 0.0, tasks=4, nodes=4), table.space)  # two blocks: blk1+blk2 only
    assert book.allocate(four) is None and book.impossible(four) is None
    five = request_of(JobSpec(2, 0.0, tasks=5, nodes=5), table.space)  # three blocks: the group of all
    got = book.allocate(five)
    assert got is not None and sorted(got.nodes.tolist()) == [1, 2, 3, 4, 5]


def _controller(tmp: Path, conf: str) -> Any:
    return controller(tmp, conf, names="b[01-08]")


def _submit(ctl: Any, tmp: Path, **options: str) -> int:
    return submit(ctl, tmp, time="1:00", **options)


def test_the_qa_job_waits_for_an_aligned_pair_with_reason_topology(tmp_path: Path) -> None:
    with _controller(tmp_path, FOUR) as ctl:
        for node in ("b01", "b02", "b03", "b05", "b06"):
            _submit(ctl, tmp_path, nodelist=node, nodes="1", exclusive="1")
        ctl.run_cycle()
        job = _submit(ctl, tmp_path, nodes="3", ntasks_per_node="2")
        ctl.run_cycle()
        assert ctl.live[job].state == "PENDING"  # b04, b07 and b08 are free: not an aligned pair
        assert ctl.reason(job) == "Topology"


def test_required_cluster_is_the_whole_machine_on_a_block_topology_too() -> None:
    """QA: --topology required=cluster was taken on tree and flat clusters but refused on a block topology
    ("levels are ['block', 'block4', 'block8']"): no domain there is called cluster."""
    table, book = _pairs(4, cpus=2)
    whole = request_of(JobSpec(1, 0.0, tasks=8, nodes=8, topology_required="cluster"), table.space)
    assert book.impossible(whole) is None and book.allocate(whole) is not None
    typo = request_of(JobSpec(2, 0.0, tasks=2, nodes=2, topology_required="clutser"), table.space)
    assert "unknown topology level 'clutser'" in (book.impossible(typo) or "")


def test_a_job_larger_than_the_largest_group_uses_as_few_groups_as_its_size_needs_or_waits() -> None:
    """QA: with BlockSizes=2,4 on 8 blocks of 2 and 2 free nodes in each 4-node group, -N 6 ran across three
    groups; Slurm's eval_nodes_block allows ceil(6 / 4) = 2 of them (max_llblock), so it waits. Within an
    aggregation likewise: BlockSizes=2,8 lets a 5-node job use at most 3 of an 8-node group's blocks."""
    for sizes, busy, job, fits in (
        ("2,4", [0, 1, 4, 5, 8, 9, 12, 13], 6, False),  # 2 free per 4-group: two groups hold 4 < 6
        ("2,4", [0, 1, 4, 5, 8, 9], 6, True),  # the last group is free: it and one more hold 6
        ("2,8", [0, 2, 4, 6, 8, 10, 12, 14], 5, False),  # one free node per block: 3 blocks hold 3 < 5
        ("2,8", [0, 2, 4, 6, 12, 14], 5, True),  # group 1: k4 and k5 free, k6 one: 2 + 2 + 1 = 5 in 3 blocks
    ):
        table, book = _pairs(8, extra=f"BlockSizes={sizes}\n")
        table.free[busy] = 0
        got = book.allocate(request_of(JobSpec(1, 0.0, tasks=job, nodes=job, exclusive=True), table.space))
        assert (got is not None) == fits, (sizes, busy, got)
        if got is not None:  # two 4-node groups; three blocks
            assert len({int(n) // (4 if sizes == "2,4" else 2) for n in got.nodes}) == (2 if sizes == "2,4" else 3)

"""QA (16 nodes in blocks of 4): refusals caused by -w talked about the machine's blocks: `-N4 --segment=4 -w
gpu[003-006]` said "the largest [block] holds 2 nodes" and `-N2 -w gpu004,gpu005` "the largest has 1", where the
blocks hold 4. Slurm says the requested nodes do not share a block, and so does HAL now."""

from __future__ import annotations

import pytest

from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

NAMES = [f"gpu{i:03d}" for i in range(1, 17)]
BLOCKS = "".join(f"BlockName=b{i} Nodes=gpu[{4 * i + 1:03d}-{4 * i + 4:03d}]\n" for i in range(4))


def refused(sizes: str, nodes: int, names: tuple[str, ...], **ask: int) -> str | None:
    topo = parse_topology_conf(BLOCKS + sizes, NAMES)
    group = tuple(Node(n, Resources(cpus=2), partitions=("p",)) for n in NAMES)
    table = NodeTable.of(Cluster(group, (Partition("p", tuple(NAMES), default=True),), topo))
    book = placement_book(table, Profile(placement="topology"), topo)
    job = JobSpec(1, 0.0, tasks=nodes, nodes=nodes, exclusive=True, time_limit=60.0, node_names=names, **ask)  # type: ignore[arg-type]
    return book.impossible(request_of(job, table.space))


@pytest.mark.parametrize("sizes", ["", "BlockSizes=4,8,16\n"])
def test_refusals_caused_by_the_nodelist_say_the_nodes_do_not_share_a_block(sizes: str) -> None:
    said = refused(sizes, 4, ("gpu003", "gpu004", "gpu005", "gpu006"), segment=4)
    assert said == (
        "--segment=4: the requested nodes (-w) do not share a block: a segment of 4 nodes stays inside one block, "
        "and at most 2 of them are in one"
    )
    said = refused(sizes, 2, ("gpu004", "gpu005"))
    assert said is not None and said.startswith("the requested nodes (-w) do not share a block: needs 2 nodes within")
    assert said.endswith("and at most 1 of them is in one")
    said = refused(sizes, 4, ("gpu003", "gpu005", "gpu006", "gpu009"), segment=2)
    assert said == (
        "--segment=2: the requested nodes (-w) do not make 2 groups of 2 that each share a block: they make at most 1"
    )
    assert refused(sizes, 2, ("gpu004", "gpu005"), segment=1) is None  # each node its own segment


def test_without_a_nodelist_the_machine_is_still_blamed() -> None:
    topo_said = refused("", 8, (), segment=8)
    assert topo_said == "--segment=8: a segment must fit inside one block, and the largest holds 4 nodes"


def test_required_block_with_a_nodelist_says_the_requested_nodes_do_not_share_a_block() -> None:
    """`-N2 --topology required=block -w gpu004,gpu005` was still told "needs 2 nodes within one block; the largest
    has 1" (the node book's check of required=, before the selector's words)."""
    topo = parse_topology_conf(BLOCKS, NAMES)
    group = tuple(Node(n, Resources(cpus=2), partitions=("p",)) for n in NAMES)
    table = NodeTable.of(Cluster(group, (Partition("p", tuple(NAMES), default=True),), topo))
    book = placement_book(table, Profile(placement="topology"), topo)

    def said(names: tuple[str, ...], nodes: int = 2) -> str | None:
        job = JobSpec(
            1, 0.0, tasks=nodes, nodes=nodes, exclusive=True, time_limit=60.0, node_names=names,
            topology_required="block",
        )  # fmt: skip
        return book.impossible(request_of(job, table.space))

    assert said(("gpu004", "gpu005")) == (
        "the requested nodes (-w) do not share a block: needs 2 nodes within one block, and at most 1 of them is in one"
    )
    assert said(("gpu005", "gpu006")) is None
    assert said((), 5) == "needs 5 nodes within one block; the largest has 4"  # without -w: the machine's blocks

"""Who a topology refusal blames (QA, 8 nodes in blocks of 2, BlockSizes=2,4,8): the machine when its blocks alone
make the job impossible (`-N3 --segment=3 -w gpu[001-004]` blamed -w, though no node list could do it), an -x list
as a -w list when the machine could but the nodes it leaves cannot (`-N2 --segment=2 -x gpu001,gpu003,...` was told
"the largest holds 1 nodes"), and one node as one node."""

from __future__ import annotations

import pytest

from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

NAMES = [f"gpu{i:03d}" for i in range(1, 9)]
CONF = "".join(f"BlockName=b{i + 1} Nodes=gpu[{2 * i + 1:03d}-{2 * i + 2:03d}]\n" for i in range(4))
CONF += "BlockSizes=2,4,8\n"
ODD = {"gpu001", "gpu003", "gpu005", "gpu007"}


def said(nodes: int, w: str = "", x: str = "", **ask: object) -> str | None:
    """The refusal of ``-N nodes`` with -w/-x (comma-separated) and other JobSpec fields, on an empty machine."""
    topo = parse_topology_conf(CONF, NAMES)
    group = tuple(
        Node(n, Resources(cpus=2), features=("odd",) if n in ODD else (), partitions=("batch",)) for n in NAMES
    )
    table = NodeTable.of(Cluster(group, (Partition("batch", tuple(NAMES), default=True),), topo))
    book = placement_book(table, Profile(placement="topology"), topo)
    job = JobSpec(
        1, 0.0, tasks=nodes, nodes=nodes, exclusive=True, time_limit=60.0, partition="batch",
        node_names=tuple(filter(None, w.split(","))), exclude_nodes=tuple(filter(None, x.split(","))),
        **ask,  # type: ignore[arg-type]
    )  # fmt: skip
    return book.impossible(request_of(job, table.space))


def test_the_machine_is_blamed_when_no_node_list_could_do_it() -> None:
    machine = "--segment=3: a segment must fit inside one block, and the largest holds 2 nodes"
    assert said(3, segment=3) == machine
    assert said(3, w="gpu001,gpu002,gpu003,gpu004", segment=3) == machine  # was: the requested nodes (-w) ...
    assert said(3, x="gpu008", segment=3) == machine
    assert said(3, w="gpu001,gpu002,gpu003", topology_required="block") == (
        "needs 3 nodes within one block; the largest has 2"
    )


@pytest.mark.parametrize(
    ("w", "level"), [("gpu002,gpu003", "block"), ("gpu001,gpu005", "block4"), ("gpu003,gpu005", "block4")]
)
def test_required_level_with_a_nodelist_blames_the_nodelist_for_every_level(w: str, level: str) -> None:
    assert said(2, w=w, topology_required=level) == (
        f"the requested nodes (-w) do not share a {level}: needs 2 nodes within one {level}, and at most 1 of them "
        "is in one"
    )
    assert said(2, w="gpu001,gpu005", topology_required="block8") is None


def test_exclusions_are_blamed_as_a_nodelist_is() -> None:
    odd = "gpu001,gpu003,gpu005,gpu007"
    assert said(2, x=odd, segment=2) == (
        "--segment=2: the nodes left after --exclude (-x) do not share a block: a segment of 2 nodes stays inside "
        "one block, and at most 1 of them is in one"
    )  # was: "a segment must fit inside one block, and the largest holds 1 nodes"
    assert said(2, x=odd, topology_required="block") == (
        "the nodes left after --exclude (-x) do not share a block: needs 2 nodes within one block, and at most 1 of "
        "them is in one"
    )
    got = said(4, x="gpu001,gpu005")
    assert got is not None and got.startswith("the nodes left after --exclude (-x) do not share a block4: needs 4")
    assert got.endswith("and at most 3 of them are in one")
    assert said(2, x="gpu001", segment=2) is None


def test_one_node_is_one_node() -> None:
    """-C odd leaves one node in each block: the machine (its partition and features) is blamed, in the singular."""
    assert said(2, features=("odd",), segment=2) == (
        "--segment=2: a segment must fit inside one block, and the largest holds 1 node"
    )

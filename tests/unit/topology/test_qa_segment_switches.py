"""QA H1: a job with both --segment and --switches was re-placed during its switch wait without its segments, and
ran on node groups that straddle blocks (or leaf switches). --segment is hard; --switches only chooses among
placements that keep every segment inside one block (or leaf)."""

from __future__ import annotations

import numpy as np

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

BLOCK_NAMES = [f"gpu{i:02d}" for i in range(1, 13)]
BLOCKS = "BlockName=b1 Nodes=gpu[01-04]\nBlockName=b2 Nodes=gpu[05-08]\nBlockName=b3 Nodes=gpu[09-12]\n"
TREE_NAMES = [f"n{i:03d}" for i in range(8)] + [f"m{i:03d}" for i in range(3)]
TREE = """SwitchName=s0 Nodes=n[000-001],m000
SwitchName=s1 Nodes=n[002-003],m001
SwitchName=s2 Nodes=n[004-005],m002
SwitchName=s3 Nodes=n[006-007]
SwitchName=t0 Switches=s[0-1]
SwitchName=t1 Switches=s[2-3]
SwitchName=root Switches=t[0-1]
"""


def _book(conf: str, names: list[str], busy: list[str]) -> tuple[NodeBook, TopologySelector]:
    topo = parse_topology_conf(conf, names)
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("batch",)) for n in names)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(names), default=True),), topo))
    sel = TopologySelector(topo, TopologyArgs(max_switch_wait=30.0))
    for name in busy:
        table.free[names.index(name)] = 0
    return NodeBook(table, selector=sel), sel


def _req(book: NodeBook, **kw: object) -> Request:
    spec = JobSpec(1, 0.0, tasks=12, nodes=6, exclusive=True, time_limit=60.0, **kw)  # type: ignore[arg-type]
    return request_of(spec, book.table.space)


def _groups_whole(sel: TopologySelector, nodes: np.ndarray, seg: int) -> bool:
    """Whether the nodes split into groups of ``seg`` each inside one segment domain (block or leaf)."""
    per = np.bincount(sel.index.ids[sel.seg_level][nodes])
    return bool(np.all(per % seg == 0))


def _place(book: NodeBook, req: Request, now: float) -> np.ndarray | None:
    book.now = now
    alloc = book.allocate(req)
    if alloc is None:
        return None
    got = np.asarray(alloc.nodes)
    book.release(alloc)
    return got


def test_blocks_segment_with_switches_waits_then_keeps_whole_segments() -> None:
    """Free: 3 nodes in b1, 3 in b2, 2 in b3. Three 2-node segments need three blocks: within its wait the job
    waits (no 2-block placement keeps its segments), then takes one segment per block."""
    book, sel = _book(BLOCKS, BLOCK_NAMES, ["gpu01", "gpu05", "gpu09", "gpu10"])
    plain = _place(book, _req(book, segment=2), 0.0)
    assert plain is not None and _groups_whole(sel, plain, 2) and sel.index.span(plain)[0] == 3
    req = _req(book, segment=2, switches=2, switches_wait=120.0)
    assert _place(book, req, 0.0) is None  # gpu[02-04,06-08] over 2 blocks broke a segment
    late = _place(book, req, 31.0)  # max_switch_wait caps the wait at 30 s
    assert late is not None and _groups_whole(sel, late, 2) and sel.index.span(late)[0] == 3


def test_tree_segment_with_switches_waits_then_keeps_whole_segments() -> None:
    """The same on a tree, where segments stay in leaf switches: s3 is busy, s0..s2 have 3 free nodes each."""
    book, sel = _book(TREE, TREE_NAMES, ["n006", "n007"])
    req = _req(book, segment=2, switches=2, switches_wait=120.0)
    assert _place(book, req, 0.0) is None  # n[000-003],m[000-001]: a pair spanned s0 and s1
    late = _place(book, req, 31.0)
    assert late is not None and _groups_whole(sel, late, 2) and sel.index.span(late)[0] == 3


def test_a_segment_placement_within_the_switches_is_found_when_one_exists() -> None:
    """Free: 2 in b1, 4 in b2, 2 in b3 (best fit takes b1 + b3 + one pair of b2: 3 blocks); --switches=2 takes
    two blocks, b2 whole and one pair of another, segments whole, at once."""
    book, sel = _book(BLOCKS, BLOCK_NAMES, ["gpu01", "gpu02", "gpu09", "gpu10"])
    req = _req(book, segment=2, switches=2, switches_wait=120.0)
    got = _place(book, req, 0.0)
    assert got is not None and _groups_whole(sel, got, 2) and sel.index.span(got)[0] == 2

"""Topology-aware selection through a real NodeBook: fewest leaves, best fit, constraints and their waits."""

from __future__ import annotations

import numpy as np
import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def book_of(
    n: int, fanouts: tuple[int, ...], levels: tuple[str, ...], cpus: int = 8, gpus: int = 0, **kw: object
) -> tuple[NodeBook, TopologySelector, NodeTable]:
    topo = Topology.tree(n, fanouts, levels)
    base = Cluster.uniform(n, Resources(cpus=cpus, gpus=gpus))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    sel = TopologySelector(topo, TopologyArgs(**kw))  # type: ignore[arg-type]
    return NodeBook(table, selector=sel), sel, table


def whole(book: NodeBook, jid: int, nodes: int, **kw: object) -> Request:
    spec = JobSpec(jid, 0.0, tasks=nodes * 8, nodes=nodes, exclusive=True, **kw)  # type: ignore[arg-type]
    return request_of(spec, book.table.space)


def test_smallest_leaf_that_fits_and_rank_order() -> None:
    book, sel, _ = book_of(64, (2, 4, 8), ("site", "rack", "switch"))
    a = book.allocate(whole(book, 1, 3))
    assert a is not None and list(a.nodes) == [0, 1, 2]
    b = book.allocate(whole(book, 2, 5))  # switch0 has exactly 5 left: best fit
    assert b is not None and sel.index.span(b.nodes) == (1, 1) and set(b.nodes) == {3, 4, 5, 6, 7}
    c = book.allocate(whole(book, 3, 12))  # 12 nodes need 2 leaves, inside one rack
    assert c is not None and sel.index.span(c.nodes) == (2, 2)
    assert list(c.nodes) == sorted(c.nodes, key=lambda n: sel.index.rank[n])


def test_fewest_leaves_when_fragmented() -> None:
    book, sel, table = book_of(32, (4, 8), ("rack", "switch"))
    # leave 2, 6, 7 and 3 free nodes in the four leaves
    for leaf, keep in enumerate((2, 6, 7, 3)):
        table.free[leaf * 8 : leaf * 8 + 8 - keep] = 0
    a = book.allocate(whole(book, 1, 7))
    assert a is not None and sel.index.span(a.nodes)[0] == 1 and set(a.nodes) == set(range(17, 24))
    b = book.allocate(whole(book, 2, 8))  # 6 + best fit 2 of the rest
    assert b is not None and sel.index.span(b.nodes)[0] == 2


def test_fewest_leaves_across_pods() -> None:
    """When no pod holds the job, the leaves are counted across pods: a whole free switch in one pod plus two
    single nodes (3 leaves), not four single nodes of the other pod plus two (5 leaves); --switches=3 fits."""
    book, sel, table = book_of(32, (4, 4), ("pod", "switch"), cpus=1)
    free = [0, 4, 8, 12, 16, 17, 18, 19]  # pod0: one node in each switch; pod1: switch4 whole
    table.free[[n for n in range(32) if n not in free]] = 0
    a = book.allocate(_ones(book, 1, 6))
    assert a is not None and sel.index.span(a.nodes)[0] == 3 and {16, 17, 18, 19} <= set(a.nodes.tolist())
    book.release(a)
    book.now = 10.0
    assert book.fits(_ones(book, 2, 6, switches=3, switches_wait=600.0))


def _ones(book: NodeBook, jid: int, nodes: int, **kw: object) -> Request:
    spec = JobSpec(jid, 0.0, tasks=nodes, nodes=nodes, exclusive=True, **kw)  # type: ignore[arg-type]
    return request_of(spec, book.table.space)


def test_switches_waits_then_relaxes() -> None:
    book, _, table = book_of(32, (4, 8), ("rack", "switch"))
    for leaf in range(4):
        table.free[leaf * 8 : leaf * 8 + 4] = 0  # 4 free per leaf
    req = whole(book, 1, 6, switches=1, switches_wait=100.0)
    book.now = 50.0
    assert not book.fits(req)
    book.now = 100.0
    assert book.fits(req)
    assert book.impossible(req) is None  # waiting for switches is never a rejection


def test_switches_maxwait_is_capped_by_max_switch_wait() -> None:
    """As in Slurm: --switches=1@7-0 waits at most max_switch_wait (300 s unless the profile says otherwise)."""
    from hal.engine.profile import Profile

    book, _, table = book_of(32, (4, 8), ("rack", "switch"))
    for leaf in range(4):
        table.free[leaf * 8 : leaf * 8 + 4] = 0
    req = whole(book, 1, 6, switches=1, switches_wait=7 * 86400.0)
    book.now = 299.0
    assert not book.fits(req)
    book.now = 300.0
    assert book.fits(req)
    assert TopologyArgs(max_switch_wait=3600.0).switch_wait(None) == 3600.0
    assert TopologyArgs(max_switch_wait=3600.0).switch_wait(60.0) == 60.0
    assert Profile.from_toml("max_switch_wait = 900").max_switch_wait == 900.0
    with pytest.raises(ValueError, match="max_switch_wait"):
        Profile(max_switch_wait=-1.0)


def test_required_level_waits_and_rejects_what_never_fits() -> None:
    book, _, table = book_of(32, (2, 2, 8), ("site", "rack", "switch"))
    assert book.impossible(whole(book, 1, 17, topology_required="rack")) is not None
    assert "unknown topology level" in (book.impossible(whole(book, 1, 2, topology_required="pod")) or "")
    table.free[0:8] = 0
    table.free[16:24] = 0  # 8 free in each rack
    assert not book.fits(whole(book, 2, 10, topology_required="rack"))
    assert book.fits(whole(book, 3, 10, topology_preferred="rack"))  # preferred climbs instead of waiting


def test_segment_keeps_groups_inside_blocks() -> None:
    book, sel, table = book_of(36, (1, 18), ("block", "switch"), segment_level="block")
    table.free[0:10] = 0  # block0: 8 free, block1: 18 free
    level = sel.index.level("block")
    assert level is not None
    a = book.allocate(whole(book, 1, 16, segment=8))  # 2 segments fit in block1: one block, not two
    assert a is not None and set(sel.index.ids[level][a.nodes]) == {1}
    book.release(a)
    b = book.allocate(whole(book, 4, 24, segment=8))  # 3 segments: two in block1, one in block0
    assert b is not None and np.bincount(sel.index.ids[level][b.nodes], minlength=2).tolist() == [8, 16]
    book.release(b)
    table.free[18:26] = 0  # now 8 and 10 free: 18 nodes, but no 12 together in one block
    assert not book.fits(whole(book, 2, 12, segment=12))
    assert book.fits(whole(book, 5, 12, segment=6))
    with pytest.raises(ValueError):
        JobSpec(3, 0.0, tasks=8, nodes=4, segment=3)


def test_gpu_tasks_stay_on_one_node_when_they_can() -> None:
    book, sel, _ = book_of(8, (2, 4), ("block", "switch"), cpus=64, gpus=8)
    space = book.table.space
    one = request_of(JobSpec(1, 0.0, tasks=3, per_task=Resources(cpus=1, gpus=1)), space)
    a = book.allocate(one)
    assert a is not None and len(a.nodes) == 1
    four = request_of(JobSpec(2, 0.0, tasks=4, per_task=Resources(cpus=1, gpus=1)), space)
    b = book.allocate(four)  # 5 GPUs left on node 0: best fit puts the 4 there
    assert b is not None and list(b.nodes) == list(a.nodes)
    twelve = request_of(JobSpec(3, 0.0, tasks=12, per_task=Resources(cpus=1, gpus=1)), space)
    c = book.allocate(twelve)
    assert c is not None and sel.index.span(c.nodes) == (1, 1) and int(c.amounts[:, 2].sum()) == 12


def test_align_ends_packs_jobs_that_end_together() -> None:
    book, sel, table = book_of(16, (2, 8), ("spine", "switch"), align_ends=0.25)
    table.free[0:4] = 0  # leaf 0: busy until t=100; leaf 1: busy until t=1000; 4 free nodes in each
    table.free[8:12] = 0
    sel.node_end = np.zeros(16)
    sel.node_end[0:4], sel.node_end[8:12] = 100.0, 1000.0
    spec = JobSpec(1, 0.0, tasks=24, nodes=3, exclusive=True, time_limit=950.0)
    a = book.allocate(request_of(spec, book.table.space))
    assert a is not None and set(a.nodes) <= set(range(12, 16))  # ends near 1000: the leaf that drains then
    short = JobSpec(2, 0.0, tasks=8, nodes=1, exclusive=True, time_limit=90.0)
    sel.node_end = None  # without the shell's ends: plain best fit (the leaf with least room)
    b = book.allocate(request_of(short, book.table.space))
    assert b is not None and int(b.nodes[0]) == 15


def test_backfill_keeps_the_nodes_a_switches_head_gets_when_its_wait_runs_out() -> None:
    """The head (-N 2 --switches=1@60) cannot start inside one switch now; at t=60 its constraint lapses and
    the two free nodes (one per switch) are enough. A 300 s job must not backfill onto one of them at t=0: the
    shadow time is the lapse (60 s), not when a whole switch frees (10,000 s)."""
    from hal.engine.cycle import Scheduler
    from hal.engine.nodes import NodeAlloc
    from hal.engine.predict.basic import UserEstimate
    from hal.engine.profile import Profile

    book, _, table = book_of(4, (2,), ("switch",), cpus=1)
    sched = Scheduler(book, table.space, Profile(), UserEstimate())
    for jid, node in ((1, 0), (2, 2)):  # one busy node in each switch until t=10,000
        spec = JobSpec(jid, 0.0, tasks=1, nodes=1, exclusive=True, time_limit=10_000.0)
        sched.adopt(spec, NodeAlloc(np.array([node]), table.capacity[[node]].copy()), 0.0, 10_000.0)
    head = JobSpec(3, 0.0, tasks=2, nodes=2, exclusive=True, time_limit=1000.0, switches=1, switches_wait=60.0)
    sched.submit(head, 0.0)
    sched.submit(JobSpec(4, 0.0, tasks=1, nodes=1, exclusive=True, time_limit=300.0), 0.0)
    assert sched.cycle(0.0).starts == []  # job 4 would still run at t=60
    assert [p.job_id for p in sched.cycle(60.0).starts] == [3]


def test_inputs_go_where_the_cache_has_room_without_evicting_another_dataset() -> None:
    """Best fit chose the partly used node and evicted a cached dataset there while empty caches sat idle."""
    import numpy as np

    from hal.engine.plugins.locality import Locality

    book, sel, table = book_of(4, (4,), ("switch",), cpus=2)
    loc = Locality(sel.index)
    loc.dataset("q", 400e6)
    sel.data = loc
    mb = 1e6
    loc.cache_room = lambda: (np.array([100 * mb, 500 * mb, 500 * mb, 500 * mb]), np.full(4, 500 * mb))
    table.free[0, 0] = 1  # node 0 is partly used: best fit's choice, but its cache would evict to take q
    spec = JobSpec(1, 0.0, tasks=1, inputs=("q",))
    got = book.allocate(request_of(spec, table.space))
    assert got is not None and got.nodes.tolist() != [0]
    loc.cache_room = lambda: (np.full(4, 100 * mb), np.full(4, 500 * mb))  # every node must evict: best fit again
    book.release(got)
    again = book.allocate(request_of(JobSpec(2, 0.0, tasks=1, inputs=("q",)), table.space))
    assert again is not None and again.nodes.tolist() == [0]

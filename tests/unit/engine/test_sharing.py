"""Slurm's --exclusive=user and --exclusive=topo on node books: whose jobs share a node, which blocks a job keeps,
and EASY and conservative plans that keep both in the future."""

from __future__ import annotations

from typing import Any

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def machine(nodes: int = 8, per_block: int = 4, cpus: int = 4) -> tuple[NodeTable, Topology]:
    """``nodes`` nodes of ``cpus`` CPUs, in blocks of ``per_block`` (one switch each)."""
    topo = Topology.tree(nodes, (1, per_block), ("block", "switch"))
    base = Cluster.uniform(nodes, Resources(cpus=cpus))
    return NodeTable.of(Cluster(base.nodes, base.partitions, topo)), topo


def book(placement: str = "firstfit", blocks: bool = True, **kw: Any) -> NodeBook:
    tab, topo = machine(**kw)
    return placement_book(tab, Profile(placement=placement), topo if blocks else None)


def req(jid: int, user: str, tasks: int = 1, exclusive: bool | str = False, **kw: Any) -> Request:
    spec = JobSpec(jid, 0.0, tasks=tasks, user=user, exclusive=exclusive, **kw)  # type: ignore[arg-type]
    return request_of(spec, machine()[0].space)


def on(alloc: NodeAlloc | None) -> list[int]:
    assert alloc is not None
    return alloc.nodes.tolist()


# ---- --exclusive=user --------------------------------------------------------------------------------
def test_exclusive_user_shares_nodes_with_its_users_jobs_only() -> None:
    b = book()
    assert on(b.allocate(req(1, "alice"))) == [0]
    mine = b.allocate(req(2, "bob", exclusive="user"))
    assert on(mine) == [1]  # not n0: alice runs there
    assert mine is not None and mine.amounts[:, 0].tolist() == [1]  # charged what it asked for, not the node
    assert on(b.allocate(req(3, "carol", tasks=4))) == [0, 2]  # 3 on n0 and 1 on n2: none on bob's n1
    assert on(b.allocate(req(4, "bob", tasks=3))) == [1]  # bob's plain job shares his node
    assert on(b.allocate(req(5, "bob", exclusive="user"))) == [3]  # n1 is full, n2 has carol's job


def test_exclusive_user_node_is_everyone_s_again_when_it_ends() -> None:
    b = book(nodes=2)
    mine = b.allocate(req(1, "bob", exclusive="user"))
    assert on(mine) == [0]
    assert on(b.allocate(req(2, "carol", tasks=4))) == [1]
    assert not b.fits(req(3, "carol"))  # n0 has 3 CPUs free, all bob's
    assert b.fits(req(4, "bob", tasks=3))
    assert mine is not None
    b.release(mine)
    assert on(b.allocate(req(3, "carol"))) == [0]


def test_exclusive_mcs_is_exclusive_user_and_plain_exclusive_stays_whole_nodes() -> None:
    assert (req(1, "a", exclusive="mcs").share, req(1, "a", exclusive="user").share) == ("user", "user")
    whole = req(1, "a", exclusive=True)
    assert whole.exclusive and not whole.share
    assert req(1, "a", exclusive="topo").share == "topo" and not req(1, "a", exclusive="topo").exclusive


def test_memo_keys_keep_modes_and_users_apart() -> None:
    b = book()
    keys = {b.memo_key(req(1, u, exclusive=m)) for u in ("a", "b") for m in (False, "user", "topo")}
    assert len(keys) == 4  # plain and topo keys are the same for both users; user keys are per user


# ---- --exclusive=topo --------------------------------------------------------------------------------
def test_exclusive_topo_keeps_its_block_while_it_runs() -> None:
    b = book()
    topo = b.allocate(req(1, "alice", exclusive="topo"))
    assert topo is not None and on(topo) == [0] and topo.amounts[:, 0].tolist() == [1]  # not charged the block
    assert topo.held is not None and topo.held.nodes.tolist() == [0, 1, 2, 3]
    assert b.nodes_of(topo) == (0,) and b.cpus_of(topo) == 16  # runs on n0; holds the block in the book
    assert b.free[:4, 0].tolist() == [0, 0, 0, 0]
    assert on(b.allocate(req(2, "alice"))) == [4]  # not n1: the block is held, its own user's job too
    assert not b.fits(req(3, "bob", exclusive="topo"))  # block 1 now has a job
    b.release(topo)
    assert b.free[:4, 0].tolist() == [4, 4, 4, 4]
    assert on(b.allocate(req(3, "bob", exclusive="topo", tasks=6))) == [0, 1]


def test_exclusive_topo_goes_only_into_an_unused_block() -> None:
    for placement in ("firstfit", "bestfit", "topology"):
        b = book(placement)
        assert on(b.allocate(req(1, "alice"))) == [0]
        assert on(b.allocate(req(2, "bob", exclusive="topo", tasks=2, nodes=2)))[0] >= 4, placement


def test_exclusive_topo_without_blocks_keeps_whole_nodes() -> None:
    b = book(blocks=False)
    topo = b.allocate(req(1, "alice", exclusive="topo"))
    assert topo is not None and on(topo) == [0] and topo.held is not None and topo.held.nodes.tolist() == [0]
    assert b.free[0, 0] == 0 and on(b.allocate(req(2, "alice"))) == [1]
    assert on(b.allocate(req(3, "bob", exclusive="topo"))) == [2]  # n1 has a job


# ---- when sharing is on ------------------------------------------------------------------------------
def test_a_book_shares_only_once_it_sees_a_mode() -> None:
    b = book()
    b.allocate(req(1, "alice"))
    b.memo_key(req(2, "alice", tasks=2))
    assert type(b) is NodeBook and not b.sharing
    b.memo_key(req(3, "alice", exclusive="user"))  # as Scheduler.submit does first
    assert b.sharing
    # who ran before is unknown, so counted as another user's: alice's --exclusive=user job avoids n0 too
    assert on(b.allocate(req(3, "alice", exclusive="user"))) == [1]


def test_a_restart_gives_back_what_a_mode_keeps() -> None:
    from hal.engine.sharing import restored

    b = book()
    topo, user = req(1, "alice", exclusive="topo"), req(2, "bob", exclusive="user")
    plain = [NodeAlloc(np.array([0]), np.array([[1, 0, 0]])), NodeAlloc(np.array([4]), np.array([[1, 0, 0]]))]
    for alloc, r in zip(plain, (topo, user), strict=True):  # as a record reads back: nodes and amounts only
        back = restored(b, alloc, r)
        b.take(back)
    assert b.free[:4, 0].tolist() == [0, 0, 0, 0]
    assert not b.fits(req(3, "carol", tasks=13))  # 15 CPUs are free, 3 of them bob's
    assert on(b.allocate(req(3, "bob", tasks=3))) == [4]


def test_the_scheduler_tells_a_turning_book_whose_jobs_run() -> None:
    """Left out before: plain jobs started before the first mode stayed "another user" for good, so alice's
    --exclusive=user job would not go beside her own running job; bob's still keeps it off his node."""
    s = scheduler("easy", nodes=3)
    s.submit(spec(1, "alice", 1, 100.0), 0.0)
    s.submit(spec(2, "bob", 1, 100.0), 0.0)
    assert [p.nodes for p in s.cycle(0.0).starts] == [(0,), (0,)]  # first fit: both on n0
    s.submit(spec(3, "alice", 1, 100.0, node_names=("n001",)), 0.0)
    assert [p.nodes for p in s.cycle(0.0).starts] == [(1,)]
    s.submit(spec(4, "alice", 1, 100.0, "user"), 1.0)  # n0 has bob's job; n1 only hers
    assert [p.nodes for p in s.cycle(1.0).starts] == [(1,)]
    s.finish(2, 10.0)  # bob's job leaves n0: the occupancy it was told ends with it
    s.submit(spec(5, "alice", 1, 100.0, "user", node_names=("n000",)), 10.0)
    assert [p.nodes for p in s.cycle(10.0).starts] == [(0,)]


def test_a_restart_adopts_plain_jobs_as_their_users() -> None:
    """A restart adopts plain jobs before a mode turns the book, or after; either way they are their users'."""
    from hal.engine.sharing import restored

    s = scheduler("easy", nodes=3)
    one = NodeAlloc(np.array([0]), np.array([[1, 0, 0]]))
    s.adopt(spec(1, "alice", 1, 100.0), restored(s.book, one, req(1, "alice")), 0.0, 100.0)
    mine = req(2, "alice", exclusive="user")
    s.adopt(spec(2, "alice", 1, 100.0, "user"), restored(s.book, one, mine), 0.0, 100.0)
    s.adopt(
        spec(3, "bob", 1, 100.0),
        restored(s.book, NodeAlloc(np.array([1]), np.array([[1, 0, 0]])), req(3, "bob")),
        0.0,
        100.0,
    )
    s.submit(spec(4, "alice", 1, 100.0, "user"), 1.0)
    assert [p.nodes for p in s.cycle(1.0).starts] == [(0,)]  # beside her own two, not bob's n1
    s.submit(spec(5, "carol", 1, 100.0, "user"), 1.0)
    assert [p.nodes for p in s.cycle(1.0).starts] == [(2,)]  # not beside alice's or bob's jobs


# ---- plans ------------------------------------------------------------------------------------------
def scheduler(backfill: str, nodes: int = 1, per_block: int = 1, cpus: int = 4) -> Scheduler:
    tab, topo = machine(nodes, per_block, cpus)
    b = placement_book(tab, Profile(placement="firstfit"), topo)
    return Scheduler(b, tab.space, Profile(order="fcfs", backfill=backfill), UserEstimate())


def spec(jid: int, user: str, cpus: int, limit: float, exclusive: bool | str = False, **kw: Any) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=cpus, user=user, time_limit=limit, exclusive=exclusive, **kw)  # type: ignore[arg-type]


def test_easy_plans_a_head_after_the_owner_of_its_node_ends() -> None:
    """bob's head fits the free CPUs as soon as alice's short job ends, but not beside her --exclusive=user job."""
    for backfill in ("easy", "conservative"):
        s = scheduler(backfill)
        s.submit(spec(1, "alice", 1, 1000.0, "user"), 0.0)
        s.submit(spec(2, "alice", 2, 100.0), 0.0)
        s.submit(spec(3, "bob", 1, 10.0), 0.0)
        s.submit(spec(4, "alice", 1, 10.0), 0.0)  # backfilled beside her own jobs (EASY plans the head for it)
        assert [p.job_id for p in s.cycle(0.0).starts] == [1, 2, 4]
        assert s.reservations[3] == 1000.0, backfill


def test_easy_keeps_a_user_exclusive_head_s_node_clear_of_other_users() -> None:
    """A long job of another user must not take the head's node: at the shadow time it would still be there."""
    for backfill in ("easy", "conservative"):
        s = scheduler(backfill)
        s.submit(spec(1, "bob", 1, 100.0), 0.0)
        s.submit(spec(2, "alice", 1, 50.0, "user"), 0.0)
        s.submit(spec(3, "bob", 1, 1000.0), 0.0)
        s.submit(spec(4, "alice", 1, 1000.0), 0.0)  # her own job may share the node with her head
        assert [p.job_id for p in s.cycle(0.0).starts] == [1, 4], backfill
        assert s.reservations[2] == 100.0
        s.finish(1, 100.0)
        assert next(p.job_id for p in s.cycle(100.0).starts) == 2, backfill


def test_easy_keeps_a_topo_head_s_block_free() -> None:
    """The head needs an unused block; a long candidate goes to the other block, not beside the ending job."""
    for backfill in ("easy", "conservative"):
        s = scheduler(backfill, nodes=4, per_block=2)
        s.submit(spec(1, "a", 4, 100.0), 0.0)  # n0, block 0
        s.submit(spec(2, "a", 4, 200.0, node_names=("n002",)), 0.0)  # block 1
        s.submit(spec(3, "b", 1, 10.0, "topo"), 0.0)
        s.submit(spec(4, "c", 1, 1000.0), 0.0)
        plan = s.cycle(0.0)
        assert {p.job_id: p.nodes for p in plan.starts}[4] == (3,), backfill  # not n1 in the head's block 0
        assert s.reservations[3] == 100.0
        s.finish(1, 100.0)
        assert [p.job_id for p in s.cycle(100.0).starts] == [3], backfill


def test_conservative_window_needs_a_node_free_of_other_owners_all_through() -> None:
    """bob's job fits n1 now (alice owns n0) and n0 from 50 (carol is promised n1 then), but no node all through
    its 100 s: a window is the union of who is on each node in it, or carol's promise breaks."""
    s = scheduler("conservative", nodes=2)
    s.submit(spec(1, "alice", 1, 50.0, "user", node_names=("n000",)), 0.0)
    s.submit(spec(2, "dave", 1, 50.0, node_names=("n001",)), 0.0)
    s.submit(spec(3, "carol", 1, 100.0, "user", node_names=("n001",)), 0.0)  # not beside dave's job
    s.submit(spec(4, "bob", 1, 100.0), 0.0)
    assert [p.job_id for p in s.cycle(0.0).starts] == [1, 2]
    assert (s.reservations[3], s.reservations[4]) == (50.0, 50.0)

"""`hal explain`'s placements free right now (controller/advice.py candidates) leave out the nodes a sharing mode
keeps from the pending job: another user's --exclusive=user node, a block an --exclusive=topo job holds, and for
an --exclusive=topo job every block in use."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from hal.controller.advice import candidates
from hal.engine.cycle import Scheduler
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def controller() -> Any:
    """What candidates() reads of a controller: 4 nodes of 2 CPUs in two blocks of two, topology placement."""
    topo = Topology.tree(4, (1, 2), ("block", "switch"))
    base = Cluster.uniform(4, Resources(cpus=2))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    profile = Profile(placement="topology")
    book = placement_book(table, profile, topo)
    return SimpleNamespace(
        lock=threading.Lock(), book=book, sched=Scheduler(book, table.space, profile, UserEstimate())
    )


def job(jid: int, user: str, cpus: int, exclusive: bool | str = False, **kw: Any) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=cpus, user=user, time_limit=100.0, exclusive=exclusive, **kw)  # type: ignore[arg-type]


def test_candidates_leave_out_the_nodes_sharing_keeps_from_the_job() -> None:
    ctl = controller()
    s = ctl.sched
    s.submit(job(1, "bob", 1, "user", node_names=("n000",)), 0.0)  # n001 and bob's CPU on n000 are free
    s.submit(job(2, "alice", 1, "topo", node_names=("n002",)), 0.0)  # holds n002's other CPU and n003
    assert sorted(p.job_id for p in s.cycle(0.0).starts) == [1, 2]
    for spec in (job(3, "carol", 3), job(4, "dave", 1, "topo"), job(5, "bob", 3)):
        s.submit(spec, 1.0)  # pending: candidates() reads the queue as the last cycle left the book
    assert candidates(ctl, 3) == []  # the old code: n000 and n001, beside bob's --exclusive=user job
    assert candidates(ctl, 4) == []  # the old code: n001, in the block bob's job uses
    assert candidates(ctl, 5)  # bob's own job may go beside his


def test_a_book_that_never_shared_offers_every_free_node() -> None:
    ctl = controller()
    ctl.sched.submit(job(1, "bob", 1, node_names=("n000",)), 0.0)
    ctl.sched.cycle(0.0)
    ctl.sched.submit(job(2, "carol", 7), 1.0)  # 7 CPUs free: a placement over both blocks
    assert not ctl.book.sharing and candidates(ctl, 2)

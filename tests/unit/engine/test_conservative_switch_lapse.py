"""Conservative backfilling books a --switches job whose switch count no free state meets at the moment its wait
runs out (then it takes any nodes, as Slurm's --switches=N@maxwait). It was booked nowhere: every later job took
what it waited for, and it started only once the machine was empty of them (QA)."""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def scheduler(backfill: str) -> Scheduler:
    """8 nodes of 2 CPUs in two leaves of 4."""
    topo = Topology.tree(8, (2, 4), ("spine", "leaf"))
    base = Cluster.uniform(8, Resources(cpus=2))
    book = NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=TopologySelector(topo))
    profile = Profile(order="fcfs", backfill=backfill, placement="topology")
    return Scheduler(book, book.table.space, profile, make_predictor("user"))


def job(jid: int, at: float, nodes: int, limit: float, switches: int | None = None) -> JobSpec:
    wait = 300.0 if switches is not None else None
    return JobSpec(
        jid, at, tasks=2 * nodes, nodes=nodes, exclusive=True, time_limit=limit, user="u",
        switches=switches, switches_wait=wait,
    )  # fmt: skip


def test_a_switch_count_no_leaf_can_meet_is_booked_where_its_wait_runs_out() -> None:
    s = scheduler("conservative")
    s.submit(job(1, 0.0, 5, 100.0, switches=1), 0.0)  # 5 nodes in one 4-node leaf: never, until 300
    assert not s.cycle(0.0).starts
    assert s.reservations.get(1) == 300.0  # booked where the wait runs out (it had no slot)
    s.submit(job(2, 1.0, 8, 1000.0), 1.0)  # the whole machine for 1000 s would run over that slot
    s.submit(job(3, 2.0, 3, 200.0), 2.0)  # three nodes for 200 s fit beside it until then
    starts = {p.job_id for p in s.cycle(2.0).starts}
    assert starts == {3}
    assert s.reservations.get(2) == 400.0  # after job 1's 100 s from 300
    assert {p.job_id for p in s.cycle(300.0).starts} == {1}  # job 3 still runs on 3 nodes: 5 are free


def test_a_switch_count_a_leaf_meets_keeps_its_leaf_slot() -> None:
    s = scheduler("conservative")
    s.submit(job(1, 0.0, 4, 100.0), 0.0)  # one leaf busy until 100
    s.submit(job(2, 0.0, 4, 50.0), 0.0)  # the other until 50
    assert {p.job_id for p in s.cycle(0.0).starts} == {1, 2}
    s.submit(job(3, 1.0, 4, 100.0, switches=1), 1.0)
    s.cycle(1.0)
    assert s.reservations.get(3) == 50.0  # a whole leaf frees at 50, inside its wait

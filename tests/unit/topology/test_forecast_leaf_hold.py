"""Start forecasts of a job a profile's topology_reserve holds for its fewest leaves. The forward runs' clones
copied the book deeply, so a hold (kept for ``req is hold.req``) named a copy of the request and no longer held
it: every forward run started the job at once over several switches, and `hal queue --start` / `hal show` put it
a second away, on nodes busy until the hold's placement freed (QA)."""

from __future__ import annotations

import math

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.forward import forward_starts
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec, PendingReason
from hal.model.resources import Resources
from hal.model.topology import Topology

PER_LEAF = 4
FREE = 100.0  # when job 1 ends and leaf 0 (nodes 0-3) is whole again


def _job(jid: int, nodes: int, limit: float) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=nodes * 8, nodes=nodes, exclusive=True, time_limit=limit, runtime=limit, user="u")


def held() -> Scheduler:
    """Three leaves of 4 nodes. Job 1 (3 nodes, 100 s) takes 0-2, job 2 (3 nodes) 4-6, job 3 (2 nodes) 8-9, job 4
    (1 node, 50 s) node 3. At 50 s job 4 has ended and head 5 (4 nodes) fits over nodes 3, 7, 10 and 11, but is
    held for leaf 0, whole at 100 s; job 6 (6 nodes) waits behind it."""
    topo = Topology.tree(3 * PER_LEAF, (PER_LEAF,), ("switch",))
    base = Cluster.uniform(3 * PER_LEAF, Resources(cpus=8))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    prof = Profile(order="fcfs", backfill="easy", placement="topology", topology_reserve="wait=600,depth=3")
    s = Scheduler(placement_book(table, prof, topo), table.space, prof, make_predictor("user"))
    for jid, nodes, limit in ((1, 3, FREE), (2, 3, 1000.0), (3, 2, 1000.0), (4, 1, 50.0), (5, 4, 300.0), (6, 6, 300.0)):
        s.submit(_job(jid, nodes, limit), 0.0)
    assert {p.job_id for p in s.cycle(0.0).starts} == {1, 2, 3, 4}
    s.finish(4, 50.0)
    assert s.cycle(50.0).starts == [] and s.reason_of(5) is PendingReason.TOPOLOGY
    assert s.reservations[5] == FREE
    return s


def test_planned_runs_start_a_held_job_when_its_leaf_frees() -> None:
    s = held()
    for now in (50.0, 51.0):  # the live clock runs on past the cycle that held it
        for basis in ("point", "upper", "request"):
            assert forward_starts(s, now, basis)[5] == FREE, (now, basis)
        # the controller forecasts on a snapshot: a clone of a clone holds it too
        assert forward_starts(s.clone(history=False), now, "request")[5] == FREE
    est = Forecaster().starts(s, 51.0)[5]  # few errors known: p50 on point predictions, p90 on upper ones
    assert (est.p50, est.p90, est.requests) == (FREE, FREE, FREE)


def test_ensemble_members_keep_the_hold() -> None:
    s = held()
    f = Forecaster(members=7)
    for i in range(60):  # enough errors for an ensemble: jobs end at 0.5-1.5 times their predictions
        f.observe(100.0, 100.0 * (0.5 + i / 60), "u")
    est = f.ensemble(s, 51.0)[5]
    # Job 1 has run 50 s of its 100 s limit, so each member ends it after 51 s and starts job 5 then, in leaf 0.
    assert math.isfinite(est.p50) and est.p50 > 51.0 and est.p90 >= est.p50
    assert est.requests == FREE


def test_a_clone_starts_the_held_job_on_its_leaf_once_free() -> None:
    s = held()
    twin = s.clone(history=False)
    assert twin.cycle(51.0).starts == []  # not over three switches now
    twin.finish(1, FREE)
    started = {p.job_id: p.nodes for p in twin.cycle(FREE).starts}
    assert sorted(started[5]) == [0, 1, 2, 3]  # the leaf the reserve planned, free then
    assert s.queue.get(5) is not None and 1 in s.running  # the scheduler itself is untouched

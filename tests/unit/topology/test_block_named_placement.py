"""QA on cluster R1 (gpu[01-08], blocks nvl1 = gpu[01-04] and nvl2 = gpu[05-08], BlockSizes=4,8) with gpu04 and
gpu08 the only free nodes: `-N2 --segment=1` waited for Topology ("not within its --segment=1"), and so did
`--topology preferred=cluster`, as if the implicit block rule (a job of N nodes in the smallest aggregation that
holds N) applied to them. Slurm places each segment on its own (--segment=1: any nodes), and a Kueue-style preferred
level is an explicit yes to spreading: the rule is for jobs that asked for nothing."""

from __future__ import annotations

import pytest

from hal.engine.cycle import Scheduler
from hal.engine.forecast import forward_starts
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.placement_explain import alternatives, topology_hold
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec, PendingReason
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

R1 = [f"gpu{i:02d}" for i in range(1, 9)]
R1_CONF = "BlockName=nvl1 Nodes=gpu[01-04]\nBlockName=nvl2 Nodes=gpu[05-08]\nBlockSizes=4,8\n"
BUSY = ("gpu01", "gpu02", "gpu03", "gpu05", "gpu06", "gpu07")


def scheduler(names: list[str], conf: str, placement: str = "topology") -> Scheduler:
    topo = parse_topology_conf(conf, names)
    nodes = tuple(Node(n, Resources(cpus=2, gpus=4), partitions=("gpu",)) for n in names)
    table = NodeTable.of(Cluster(nodes, (Partition("gpu", tuple(names), default=True),), topo))
    profile = Profile(placement=placement)
    return Scheduler(placement_book(table, profile, topo), table.space, profile, UserEstimate())


def occupy(sched: Scheduler, busy: tuple[str, ...], limits: tuple[float, ...] = ()) -> None:
    for jid, name in enumerate(busy, start=100):
        limit = limits[jid - 100] if limits else 1800.0
        sched.submit(JobSpec(jid, 0.0, tasks=1, nodes=1, exclusive=True, time_limit=limit, node_names=(name,)), 0.0)
    assert len(sched.cycle(0.0).starts) == len(busy)


def names_of(sched: Scheduler, job_id: int) -> set[str]:
    names = sched.book.table.names  # type: ignore[attr-defined]
    return {names[int(i)] for i in sched.running[job_id].alloc.nodes}


def pair(jid: int, **ask: object) -> JobSpec:
    return JobSpec(jid, 1.0, tasks=2, nodes=2, exclusive=True, time_limit=600.0, **ask)  # type: ignore[arg-type]


NAMED: list[dict[str, object]] = [{"segment": 1}, {"topology_preferred": "cluster"}]
NAMED += [{"topology_preferred": "block8"}, {"topology_required": "block8"}]


@pytest.mark.parametrize("ask", NAMED)
def test_a_job_that_named_its_placement_starts_on_nodes_of_two_blocks(ask: dict[str, object]) -> None:
    sched = scheduler(R1, R1_CONF)
    occupy(sched, BUSY)
    sched.submit(pair(1, **ask), 1.0)
    assert sched.queue.get(1) is not None and topology_hold(sched, 1) is None  # nothing for hal explain to blame
    sel = sched.book.select  # type: ignore[attr-defined]
    assert isinstance(sel, TopologySelector)
    assert alternatives(sel, sched.book, sched.queue.get(1).req)  # type: ignore[arg-type,union-attr]
    started = sched.cycle(1.0).starts
    assert [p.job_id for p in started] == [1]  # the old code: PD (Topology)
    assert names_of(sched, 1) == {"gpu04", "gpu08"}


def test_a_job_that_asked_nothing_still_stays_in_one_block() -> None:
    sched = scheduler(R1, R1_CONF)
    occupy(sched, BUSY)
    sched.submit(pair(1), 1.0)
    sched.submit(pair(2, topology_required="block"), 1.0)
    assert not sched.cycle(1.0).starts
    assert sched.reason_of(1) is PendingReason.TOPOLOGY and sched.reason_of(2) is PendingReason.TOPOLOGY
    assert "within one block (4 nodes" in str(topology_hold(sched, 1))


def test_segment_one_packs_into_one_block_when_it_can() -> None:
    sched = scheduler(R1, R1_CONF)
    occupy(sched, ("gpu01", "gpu05"))
    sched.submit(pair(1, segment=1), 1.0)
    sched.cycle(1.0)
    assert len({n in ("gpu02", "gpu03", "gpu04") for n in names_of(sched, 1)}) == 1  # both in nvl1 or both in nvl2


def test_forecasts_plan_segment_one_and_preferred_on_any_two_nodes() -> None:
    """Every node busy; gpu04 ends at 100, gpu08 at 200, the rest at 1800: a --segment=1 or preferred job is planned
    at 200, where the implicit rule waits for two nodes of one block (1800)."""
    limits = {"gpu04": 100.0, "gpu08": 200.0}
    for ask, start in (({"segment": 1}, 200.0), ({"topology_preferred": "cluster"}, 200.0), ({}, 1800.0)):
        sched = scheduler(R1, R1_CONF)
        occupy(sched, tuple(R1), tuple(limits.get(n, 1800.0) for n in R1))
        sched.submit(pair(1, **ask), 1.0)
        assert forward_starts(sched, 1.0, "point", wanted=[1]).get(1) == pytest.approx(start), ask


def test_preferred_spreads_over_aggregations_when_no_one_holds_it() -> None:
    """16 nodes in 4-node blocks (BlockSizes=4,8,16), 6 free over both 8-node aggregations: -N5 preferred=block8
    tries block8, climbs, and spreads; a plain -N5 waits for 5 free in one block8 (Slurm's rule)."""
    names = [f"g{i:02d}" for i in range(1, 17)]
    blocks = "".join(f"BlockName=b{i} Nodes=g[{4 * i + 1:02d}-{4 * i + 4:02d}]\n" for i in range(4))
    sched = scheduler(names, blocks + "BlockSizes=4,8,16\n")
    occupy(sched, ("g01", "g02", "g05", "g06", "g07", "g09", "g10", "g11", "g13", "g14"))  # free: 3 + 3
    sched.submit(JobSpec(1, 1.0, tasks=5, nodes=5, exclusive=True, time_limit=60.0), 1.0)
    sched.submit(JobSpec(2, 1.0, tasks=5, nodes=5, exclusive=True, time_limit=60.0, topology_preferred="block8"), 1.0)
    assert sched.reason_of(1) is PendingReason.TOPOLOGY
    assert [p.job_id for p in sched.cycle(1.0).starts] == [2]

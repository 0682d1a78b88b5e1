"""Slurm's --exclusive=user and --exclusive=topo over random workloads with backfilling: no node ever holds two
users' jobs while one of them is --exclusive=user, no block holds another job beside an --exclusive=topo job, and
reservations stay promises."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from hal.engine.capacity import Book
from hal.engine.nodes import NodeAlloc
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.profile import BACKFILLS, Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace
from hal.model.topology import Topology
from hal.sim.simulator import Outcome
from tests.property.machines import ALL_ORDERS, USERS, Case, Machine, Record, budget, check_schedule, simulate
from tests.property.test_reservations import broken_promises

SHARING = budget(60)
MODES: tuple[bool | str, ...] = (False, False, False, True, "user", "user", "mcs", "topo", "topo")
MODE: dict[bool | str, str] = {"user": "user", "mcs": "user", "topo": "topo"}  # as the engine reads --exclusive=


@dataclass(frozen=True)
class BlockMachine(Machine):
    """Nodes in blocks (or without a topology: each node its own block), booked as the profile places."""

    topology: Topology | None = None

    def build(self, placement: str) -> tuple[Book, ResourceSpace]:
        assert self.cluster is not None
        table = NodeTable.of(self.cluster)
        return placement_book(table, Profile(placement=placement), self.topology), table.space


@st.composite
def sharing_cases(
    draw: st.DrawFn, orders: tuple[str, ...] = ALL_ORDERS, backfills: tuple[str, ...] = BACKFILLS, upper: bool = False
) -> Case:
    blocks, per_block, cpus = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 4]))
    n = blocks * per_block
    topo = Topology.tree(n, (1, per_block), ("block", "switch")) if draw(st.integers(0, 3)) else None
    base = Cluster.uniform(n, Resources(cpus=cpus))
    machine = BlockMachine("nodes", cluster=Cluster(base.nodes, base.partitions, topo), topology=topo)
    jobs: list[JobSpec] = []
    now = 0
    for i in range(draw(st.integers(2, 18))):
        now += draw(st.sampled_from([0, 0, 1, 5, 40]))
        run = draw(st.sampled_from([0, 1, 10, 30, 100, 400]))
        nodes = draw(st.sampled_from([None, None, 1, 2]))
        tasks = draw(st.integers(1, 2 * cpus)) if nodes is None else nodes * draw(st.integers(1, cpus))
        limit = run + draw(st.sampled_from([0, 0, 5, 60])) if upper else draw(st.sampled_from([None, 1, 50, 500]))
        mode = draw(st.sampled_from(MODES))
        jobs.append(
            JobSpec(i + 1, float(now), tasks=tasks, nodes=nodes, exclusive=mode, time_limit=limit,  # type: ignore[arg-type]
                    user=draw(st.sampled_from(USERS)), runtime=float(run))
        )  # fmt: skip
    profile = Profile(
        order=draw(st.sampled_from(orders)),
        backfill=draw(st.sampled_from(backfills)),
        placement=draw(st.sampled_from(["firstfit", "bestfit", "topology"])),
    )
    estimates = ("user", "actual") if upper else ("user", "actual", "last2")
    return Case(machine, tuple(jobs), profile, draw(st.sampled_from(estimates)))


def broken_sharing(case: Case, out: Outcome, rec: Record) -> list[str]:
    """Replays the real intervals [start, end) of every job and checks each start against the jobs running then."""
    assert isinstance(case.machine, BlockMachine) and case.machine.cluster is not None
    topo = case.machine.topology  # each node's block: its name at the "block" level, else the node itself
    block_of = [p[0] for p in topo.paths] if topo is not None else [n.name for n in case.machine.cluster.nodes]
    specs = {j.job_id: j for j in case.jobs}
    events: list[tuple[float, int, int]] = []  # (time, 0 = end before 1 = start, job)
    for i, jid in enumerate(out.job_id.tolist()):
        if jid in rec.allocs and out.end[i] > out.start[i]:
            events += [(float(out.start[i]), 1, jid), (float(out.end[i]), 0, jid)]
    running: dict[int, tuple[set[int], str, str]] = {}  # job -> (nodes, user, mode)
    problems = []
    for when, kind, jid in sorted(events):
        if not kind:
            del running[jid]
            continue
        alloc: NodeAlloc = rec.allocs[jid]
        nodes, user = set(alloc.nodes.tolist()), specs[jid].user
        mode = MODE.get(specs[jid].exclusive, "")
        for other, (o_nodes, o_user, o_mode) in running.items():
            if nodes & o_nodes and user != o_user and "user" in (mode, o_mode):
                problems.append(f"t={when}: {user}'s job {jid} shares a node with {o_user}'s job {other}")
            if "topo" in (mode, o_mode) and {block_of[k] for k in nodes} & {block_of[k] for k in o_nodes}:
                problems.append(f"t={when}: jobs {jid} and {other} share a block beside a topo job")
        running[jid] = (nodes, user, mode)
    return problems


@SHARING
@given(case=sharing_cases())
def test_modes_hold_whatever_the_order_and_backfill(case: Case) -> None:
    out, rec, sched = simulate(case)
    check_schedule(case, out, rec, sched)
    problems = broken_sharing(case, out, rec)
    assert not problems, problems[:3]


@SHARING
@given(case=sharing_cases(orders=("fcfs",), backfills=("easy", "conservative"), upper=True))
def test_reservations_hold_with_modes(case: Case) -> None:
    """FCFS with estimates that are upper bounds: no job starts after a reservation made for it, though the
    plans must now see whose nodes are whose and which blocks are kept."""
    broken = broken_promises(case)
    assert not broken, broken[:3]

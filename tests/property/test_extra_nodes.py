"""EASY on node books: a waiting job that could start now on nodes the head does not need at its shadow time
is started, and topology-bound heads still start by their reservation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hal.engine.backfill import EasyMemo
from hal.engine.capacity import Book
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plan import Plan
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import BACKFILL_ORDERS, Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace
from hal.model.topology import Topology
from hal.sim.simulator import Simulation
from tests.property.machines import Case, Machine, budget, cases, check_schedule, clusters, profiles, simulate

EXTRA = budget(60)


def missed_extra_nodes(plan: Plan, sched: Scheduler, memo: EasyMemo) -> list[str]:
    """Waiting jobs this EASY pass should have started: one ending by the shadow time that fits now, or one
    that fits now off the head's planned nodes and leaves the head its fit at the shadow time."""
    book = sched.book
    assert isinstance(book, NodeBook)
    head, shadow, state = memo.head, memo.shadow, memo.state
    planned = book.state_place(state, head.req)
    if planned is None:  # an unreachable shadow (the head never fits): nothing is late
        return []
    keep = np.zeros(len(book.table), dtype=bool)
    keep[planned.nodes] = True
    missed = []
    for w in sched.queue.items():
        if w is head:
            continue
        if plan.now + w.estimate <= shadow:
            if book.fits(w.req):
                missed.append(f"t={plan.now}: job {w.spec.job_id} ends by the shadow {shadow} and fits, yet waits")
            continue
        alloc = book.allocate_avoiding(w.req, keep)
        if alloc is None:
            continue
        book.release(alloc)
        after = book.copy(state)
        book.state_sub(after, alloc)
        if book.state_place(after, head.req) is not None:
            nodes = alloc.nodes.tolist()
            missed.append(f"t={plan.now}: job {w.spec.job_id} fits on {nodes}, which head {head.spec.job_id} "
                          f"does not need at {shadow}, yet waits")  # fmt: skip
    return missed


def run_watching(case: Case) -> list[str]:
    """Simulate the case and check every EASY pass that planned afresh and started nothing past the shadow
    time (a late start moves the head's plan, and a reused memo retries only newcomers: both by design)."""
    book, space = case.machine.build(case.profile.placement)
    missed: list[str] = []
    last: list[EasyMemo | None] = [None]

    def watch(plan: Plan, sched: Scheduler) -> None:
        memo = sched.easy_memo
        fresh = memo is not None and memo is not last[0]
        last[0] = memo
        if not fresh or memo is None or memo.shadow < 0 or not len(sched.queue):
            return
        if any(p.backfilled and p.predicted_end > memo.shadow for p in plan.starts):
            return
        missed.extend(missed_extra_nodes(plan, sched, memo))

    Simulation(list(case.jobs), book, space, case.profile, make_predictor(case.estimate), on_plan=watch).run()
    return missed


@EXTRA
@given(case=cases(machine=clusters(), profile=profiles(backfills=("easy",))))
def test_easy_starts_what_fits_beside_the_heads_planned_nodes(case: Case) -> None:
    """Any order, any estimates: what fits now without delaying the head at its shadow time starts now.
    Exact on a node book without a selector, where a head keeps fitting on its planned nodes."""
    missed = run_watching(case)
    assert not missed, missed[:3]


# ---- topology-bound heads ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopoMachine(Machine):
    """Nodes of 2 CPUs under a block/switch tree, placed as ``placement = "topology"`` places them."""

    topology: Topology | None = None
    max_switch_wait: float = 300.0

    def build(self, placement: str) -> tuple[Book, ResourceSpace]:
        assert self.cluster is not None
        table = NodeTable.of(self.cluster)
        profile = Profile(placement="topology", max_switch_wait=self.max_switch_wait)
        return placement_book(table, profile, self.topology), table.space


@st.composite
def topo_cases(draw: st.DrawFn) -> Case:
    blocks, per_switch = draw(st.integers(1, 2)), draw(st.integers(2, 4))
    switches = draw(st.integers(1, 2))
    n = blocks * switches * per_switch
    topo = Topology.tree(n, (blocks, switches, per_switch), ("zone", "block", "switch"))
    base = Cluster.uniform(n, Resources(cpus=2))
    machine = TopoMachine("nodes", cluster=Cluster(base.nodes, base.partitions, topo), topology=topo)
    jobs: list[JobSpec] = []
    now = 0
    for i in range(draw(st.integers(2, 20))):
        now += draw(st.sampled_from([0, 0, 1, 10, 40]))
        run = draw(st.sampled_from([1, 10, 30, 60, 250, 1000]))
        nodes = draw(st.integers(1, per_switch))
        kw: dict[str, Any] = draw(
            st.sampled_from([
                {}, {}, {"topology_required": "switch"}, {"topology_required": "block"},
                {"topology_preferred": "switch"}, {"switches": 1, "switches_wait": 60.0},
                {"switches": 1, "switches_wait": 1000.0},
            ])
        )  # fmt: skip
        jobs.append(
            JobSpec(
                job_id=i + 1,
                submit_time=float(now),
                tasks=nodes * draw(st.integers(1, 2)),
                nodes=nodes if draw(st.booleans()) else None,
                per_task=Resources(cpus=1),
                exclusive=draw(st.integers(0, 3)) == 0,
                time_limit=run + draw(st.sampled_from([0, 0, 5, 300])),
                runtime=float(run),
                **kw,
            )
        )
    profile = Profile(order="fcfs", backfill="easy", backfill_order=draw(st.sampled_from(BACKFILL_ORDERS)))
    return Case(machine, tuple(jobs), profile, draw(st.sampled_from(["user", "actual"])))


@EXTRA
@given(case=topo_cases())
def test_topology_bound_heads_start_by_their_reservation(case: Case) -> None:
    """FCFS, upper-bound estimates: backfilling beside a --topology/--switches head never delays it."""
    out, rec, sched = simulate(case)
    check_schedule(case, out, rec, sched)
    start = dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))
    broken = [
        f"job {jid}: reserved at t={at} for {promised}, started {start[jid]}"
        for jid, made in rec.reservations.items()
        for at, promised in made
        if math.isfinite(promised) and start[jid] > promised
    ]
    assert not broken, broken[:3]

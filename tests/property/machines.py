"""Hypothesis strategies for random machines, workloads and profiles, and a runner that records every cycle."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from hal.engine.capacity import Book, PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plan import Plan
from hal.engine.plugins.placement import RANKERS
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import BACKFILL_ORDERS, BACKFILLS, ORDERS, PLACEMENTS, Profile
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import Resources, ResourceSpace
from hal.sim.simulator import Outcome, Simulation, pool_for

ALL_ORDERS = tuple(sorted(ORDERS))
ESTIMATES = ("user", "actual", "last2")
USERS = ("u1", "u2", "u3")
SCALE = float(os.environ.get("HAL_PROPERTY_SCALE", "1"))  # e.g. 20 for a long hunt; 1 keeps CI fast


def budget(examples: int) -> settings:
    """Hypothesis settings for a property: ``examples`` cases (times HAL_PROPERTY_SCALE), no deadline."""
    return settings(
        max_examples=max(1, int(examples * SCALE)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


@dataclass(frozen=True)
class Machine:
    """What a simulation runs on: a processor pool, a multi-resource pool, or a table of nodes."""

    kind: str  # "pool" (pool_for), "pool3" (cpus, mem, gpus) or "nodes"
    capacity: tuple[int, ...] = ()
    cluster: Cluster | None = None

    def build(self, placement: str) -> tuple[Book, ResourceSpace]:
        if self.kind == "pool":
            return pool_for(self.capacity[0])
        if self.kind == "pool3":
            return PoolBook(self.capacity), ResourceSpace()
        assert self.cluster is not None
        table = NodeTable.of(self.cluster)
        return NodeBook(table, RANKERS[placement]), table.space


@dataclass(frozen=True)
class Case:
    machine: Machine
    jobs: tuple[JobSpec, ...]
    profile: Profile
    estimate: str


# ---- machines --------------------------------------------------------------------------------------
def pools() -> st.SearchStrategy[Machine]:
    return st.integers(1, 24).map(lambda n: Machine("pool", (n, 0, 0)))


def pools3() -> st.SearchStrategy[Machine]:
    return st.tuples(st.integers(1, 16), st.sampled_from([1024, 4096, 8192]), st.integers(0, 4)).map(
        lambda c: Machine("pool3", c)
    )


@st.composite
def clusters(draw: st.DrawFn) -> Machine:
    """One to three node shapes; the GPU nodes form a "gpu" partition, some nodes carry the "fast" feature."""
    shapes = draw(st.lists(st.tuples(st.sampled_from([1, 2, 4, 8]), st.sampled_from([0, 2048, 8192]),
                                     st.sampled_from([0, 0, 2]), st.integers(1, 3), st.booleans()),
                           min_size=1, max_size=3))  # fmt: skip
    nodes: list[Node] = []
    for s, (cpus, mem, gpus, count, fast) in enumerate(shapes):
        parts = ("batch", "gpu") if gpus else ("batch",)
        feats = ("fast",) if fast else ()
        nodes += [Node(f"s{s}n{i}", Resources(cpus, mem, gpus), feats, parts) for i in range(count)]
    partitions = [Partition("batch", tuple(n.name for n in nodes), default=True)]
    gpu_nodes = tuple(n.name for n in nodes if "gpu" in n.partitions)
    if gpu_nodes:
        partitions.append(Partition("gpu", gpu_nodes))
    return Machine("nodes", cluster=Cluster(tuple(nodes), tuple(partitions)))


def machines() -> st.SearchStrategy[Machine]:
    return st.one_of(pools(), pools3(), clusters())


# ---- jobs ------------------------------------------------------------------------------------------
@st.composite
def requests(draw: st.DrawFn, machine: Machine) -> dict[str, Any]:
    """The resource part of a JobSpec, sized so that most jobs fit the machine and a few do not."""
    if machine.kind == "pool":
        return {"tasks": draw(st.integers(1, machine.capacity[0] + 2))}
    if machine.kind == "pool3":
        per = Resources(
            draw(st.integers(1, 3)), draw(st.sampled_from([0, 0, 512, 2048])), draw(st.sampled_from([0, 0, 1]))
        )
        return {"tasks": draw(st.integers(1, 6)), "per_task": per}
    cluster = machine.cluster
    assert cluster is not None
    if draw(st.integers(0, 9)) == 0:  # anything at all: often impossible, so admission control is exercised
        per = Resources(draw(st.integers(0, 9)), draw(st.sampled_from([0, 1024, 9000])), draw(st.integers(0, 3)))
        return {
            "tasks": draw(st.integers(1, 40)),
            "per_task": per if per != Resources() else Resources(cpus=1),
            "nodes": draw(st.sampled_from([None, 1, 2, 5, 12])),
            "exclusive": draw(st.booleans()),
            "partition": draw(st.sampled_from(["", "batch", "gpu", "debug"])),
            "features": draw(st.sampled_from([(), ("fast",), ("arm",)])),
        }
    # mostly requests that fit this machine (a few tries), so jobs queue and compete
    space = NodeTable.of(cluster).space
    for _ in range(4):
        gpu = any(n.capacity.gpus for n in cluster.nodes) and draw(st.integers(0, 3)) == 0
        fast = any(n.features for n in cluster.nodes) and draw(st.integers(0, 4)) == 0
        per = Resources(draw(st.integers(1, 3)), draw(st.sampled_from([0, 0, 0, 1024])), int(gpu))
        nodes = draw(st.sampled_from([None, None, None, 1, 2, 3]))
        kw: dict[str, Any] = {
            "tasks": draw(st.integers(1, 8)) if nodes is None else nodes * draw(st.integers(1, 2)),
            "per_task": per,
            "nodes": nodes,
            "exclusive": draw(st.integers(0, 6)) == 0,
            "partition": "gpu" if gpu and draw(st.booleans()) else draw(st.sampled_from(["", "batch"])),
            "features": ("fast",) if fast else (),
        }
        if can_ever_run(request_of(JobSpec(job_id=0, submit_time=0, **kw), space), machine, space):
            break
    return kw


@st.composite
def workloads(
    draw: st.DrawFn, machine: Machine, upper_bound: bool, with_deps: bool = True, max_jobs: int = 25
) -> tuple[JobSpec, ...]:
    """Jobs in submission order (ties on purpose); limits are upper bounds of the runtime when asked."""
    n = draw(st.integers(1, max_jobs))
    jobs: list[JobSpec] = []
    now = 0
    for i in range(n):
        now += draw(st.sampled_from([0, 0, 1, 3, 10, 40, 150]))
        run = draw(st.sampled_from([0, 1, 5, 10, 30, 60, 100, 250]))
        if upper_bound:
            limit: float | None = run + draw(st.sampled_from([0, 0, 5, 60, 300]))
        else:
            limit = draw(st.sampled_from([None, 0, 1, 10, 50, 100, 400]))
        deps: tuple[Dependency, ...] = ()
        if with_deps and i and draw(st.integers(0, 3)) == 0:
            on = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=2, unique=True))
            kind = draw(st.sampled_from([DependencyKind.AFTEROK, DependencyKind.AFTERANY]))
            deps = tuple(Dependency(kind, jobs[k].job_id) for k in on)
        share = draw(st.sampled_from([None, None, None, 0.25, 0.5, 1.0]))  # sbatch --time-min, as a share of --time
        spec = JobSpec(
            job_id=i + 1,
            submit_time=float(now),
            time_limit=limit,
            time_min=max(1.0, float(limit) * share) if share is not None and limit and limit >= 1 else None,
            user=draw(st.sampled_from(USERS)),
            dependencies=deps,
            runtime=float(run),
            **draw(requests(machine)),
        )
        jobs.append(spec)
    return tuple(jobs)


@st.composite
def profiles(draw: st.DrawFn, orders: tuple[str, ...] = ALL_ORDERS, backfills: tuple[str, ...] = BACKFILLS) -> Profile:
    return Profile(
        order=draw(st.sampled_from(orders)),
        backfill=draw(st.sampled_from(backfills)),
        backfill_order=draw(st.sampled_from(BACKFILL_ORDERS)),
        placement=draw(st.sampled_from(PLACEMENTS)),
        correction=draw(st.sampled_from(["reqtime", "reqtime", "ladder", "double"])),
        half_life=draw(st.sampled_from([7 * 86400.0, 100.0])),
    )


@st.composite
def cases(
    draw: st.DrawFn,
    machine: st.SearchStrategy[Machine] | None = None,
    profile: st.SearchStrategy[Profile] | None = None,
    estimates: tuple[str, ...] = ESTIMATES,
    upper_bound: bool | None = None,
    with_deps: bool = True,
) -> Case:
    mach = draw(machine if machine is not None else machines())
    upper = draw(st.booleans()) if upper_bound is None else upper_bound
    jobs = draw(workloads(mach, upper, with_deps))
    return Case(mach, jobs, draw(profile if profile is not None else profiles()), draw(st.sampled_from(estimates)))


# ---- running with a recorder -------------------------------------------------------------------------
@dataclass
class Record:
    """Everything the observer saw: each start with its allocation, each reservation, and broken invariants."""

    starts: dict[int, list[float]] = field(default_factory=dict)
    allocs: dict[int, Any] = field(default_factory=dict)
    reservations: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # job -> [(made at, start)]
    plans: list[tuple[float, tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=list)
    limits: dict[int, float] = field(default_factory=dict)  # limits backfill lowered (--time-min)
    problems: list[str] = field(default_factory=list)
    idle_heads: list[str] = field(default_factory=list)
    idle_machine: list[str] = field(default_factory=list)


def free_matrix(book: Book) -> np.ndarray:
    return np.asarray(book.snapshot(), dtype=np.int64)


def capacity_matrix(book: Book) -> np.ndarray:
    if isinstance(book, NodeBook):
        return book.table.capacity
    return np.asarray(book.total(), dtype=np.int64)


def observer(rec: Record) -> Any:
    def on_plan(plan: Plan, sched: Scheduler) -> None:
        book = sched.book
        free, cap = free_matrix(book), capacity_matrix(book)
        if (free < 0).any() or (free > cap).any():
            rec.problems.append(f"t={plan.now}: free resources out of [0, capacity]: {free.tolist()}")
        for p in plan.starts:
            rec.starts.setdefault(p.job_id, []).append(p.start)
            rec.allocs[p.job_id] = sched.running[p.job_id].alloc
            if p.time_limit is not None:
                rec.limits[p.job_id] = p.time_limit
            if p.start != plan.now:
                rec.problems.append(f"job {p.job_id} placed at {p.start} in the cycle of {plan.now}")
        for r in plan.reservations:
            rec.reservations.setdefault(r.job_id, []).append((plan.now, r.start))
        rec.plans.append((plan.now, tuple(plan.starts), tuple(plan.reservations)))
        if len(sched.queue) and book.idle():
            rec.idle_machine.append(f"t={plan.now}: the machine is idle and {len(sched.queue)} jobs wait")
        if len(sched.queue):
            head = next(w for w in sched.queue.items() if w.spec.job_id == sched.head_id)
            if book.fits(head.req):
                rec.idle_heads.append(f"t={plan.now}: head job {head.spec.job_id} fits now but waits")

    return on_plan


def simulate(case: Case, observe: bool = True) -> tuple[Outcome, Record, Scheduler]:
    book, space = case.machine.build(case.profile.placement)
    rec = Record()
    sim = Simulation(
        list(case.jobs),
        book,
        space,
        case.profile,
        make_predictor(case.estimate),
        on_plan=observer(rec) if observe else None,
    )
    out = sim.run()
    return out, rec, sim.sched


# ---- independent checks ----------------------------------------------------------------------------
def rejected_ids(out: Outcome) -> list[int]:
    ids = []
    for message in out.rejected:
        match = re.match(r"job (\d+)", message)
        assert match, f"a rejection does not name its job: {message!r}"
        ids.append(int(match.group(1)))
    return ids


def can_ever_run(req: Request, machine: Machine, space: ResourceSpace) -> bool:
    """An oracle written apart from the books: does the request fit the empty machine?"""
    total = np.array(req.total)
    if machine.kind != "nodes":
        cap = np.array(machine.capacity)
        return bool((total <= cap).all()) and any(req.total)
    cluster = machine.cluster
    assert cluster is not None
    if req.partition and req.partition not in {p.name for p in cluster.partitions}:
        return False
    members = set(cluster.partition(req.partition).nodes) if req.partition else {n.name for n in cluster.nodes}
    caps = [
        space.vector(n.capacity) for n in cluster.nodes if n.name in members and set(req.features) <= set(n.features)
    ]
    per_task = np.array(req.per_task)
    if req.nodes is not None:
        per_node = per_task * math.ceil(req.tasks / req.nodes)
        return sum(bool((per_node <= c).all()) for c in caps) >= req.nodes
    used = per_task > 0
    if not used.any():
        return False
    room = sum(int((c[used] // per_task[used]).min()) for c in caps)
    return room >= req.tasks


def node_usage(alloc: Any, n_nodes: int, n_res: int) -> np.ndarray:
    usage = np.zeros((n_nodes, n_res), dtype=np.int64)
    usage[alloc.nodes] += alloc.amounts
    return usage


def check_alloc(spec: JobSpec, req: Request, alloc: Any, book: Book) -> str | None:
    """The allocation gives the job what it asked for, on nodes it may use."""
    if not isinstance(book, NodeBook):
        return None if tuple(alloc) == req.total else f"job {spec.job_id}: pool alloc {alloc} != request {req.total}"
    assert isinstance(alloc, NodeAlloc)
    table = book.table
    nodes = [int(n) for n in alloc.nodes]
    if len(set(nodes)) != len(nodes):
        return f"job {spec.job_id}: a node appears twice in {nodes}"
    for n in nodes:
        if req.partition and not table.partition_masks[req.partition][n]:
            return f"job {spec.job_id}: node {n} is not in partition {req.partition}"
        for feat in req.features:
            if not table.feature_masks[feat][n]:
                return f"job {spec.job_id}: node {n} lacks feature {feat}"
    per_task = np.array(req.per_task)
    if req.exclusive and not (alloc.amounts == table.capacity[alloc.nodes]).all():
        return f"job {spec.job_id}: exclusive but not given whole nodes"
    if req.nodes is not None:
        if len(nodes) != req.nodes:
            return f"job {spec.job_id}: asked for {req.nodes} nodes, got {len(nodes)}"
        if not req.exclusive and not (alloc.amounts == req.node_amounts()).all():  # block distribution's shares
            return f"job {spec.job_id}: pinned job not given its per-node share"
        return None
    if not req.exclusive:
        used = per_task > 0
        tasks = alloc.amounts[:, used] // per_task[used]
        if (tasks != tasks[:, :1]).any() or (alloc.amounts != tasks[:, :1] * per_task).any():
            return f"job {spec.job_id}: amounts {alloc.amounts.tolist()} are not whole tasks of {req.per_task}"
        if int(tasks[:, 0].sum()) != req.tasks or (tasks[:, 0] < 1).any():
            return f"job {spec.job_id}: {tasks[:, 0].tolist()} tasks placed, asked for {req.tasks}"
    return None


def sweep_oversubscription(case: Case, out: Outcome, rec: Record, book: Book) -> list[str]:
    """Replays the real intervals [start, start + runtime) of every allocation and checks each node's capacity."""
    cap = capacity_matrix(book)
    if cap.ndim == 1:
        cap = cap[None, :]
    events: list[tuple[float, int, int]] = []  # (time, 0 = end before 1 = start, job index)
    for i, jid in enumerate(out.job_id.tolist()):
        if jid in rec.allocs and out.end[i] > out.start[i]:
            events += [(float(out.start[i]), 1, i), (float(out.end[i]), 0, i)]
    events.sort()
    used = np.zeros_like(cap)
    problems = []
    for when, kind, i in events:
        alloc = rec.allocs[int(out.job_id[i])]
        amount = node_usage(alloc, *cap.shape) if isinstance(alloc, NodeAlloc) else np.asarray(alloc)[None, :]
        used += amount if kind else -amount
        if kind and (used > cap).any():
            problems.append(
                f"t={when}: job {int(out.job_id[i])} over-subscribes: used {used.tolist()} > {cap.tolist()}"
            )
    return problems


def never_satisfied(case: Case, out: Outcome, index: dict[int, int]) -> set[int]:
    """Jobs whose dependencies can never be met: afterok on a job killed at its --time-min cut (a TIMEOUT), or
    any dependency on such a job (it never starts, so never ends). Jobs come in submission order, deps earlier."""
    killed = out.cut_killed if out.cut_killed is not None else np.zeros(len(index), dtype=bool)
    never: set[int] = set()
    for spec in case.jobs:
        for dep in spec.dependencies:
            failed = dep.kind is DependencyKind.AFTEROK and bool(killed[index[dep.job_id]])
            if failed or dep.job_id in never:
                never.add(spec.job_id)
    return never


def check_schedule(case: Case, out: Outcome, rec: Record, sched: Scheduler) -> None:
    """The invariants every profile must keep, whatever the estimates."""
    assert not rec.problems, rec.problems[:3]
    jobs = {j.job_id: j for j in case.jobs}
    index = {jid: i for i, jid in enumerate(out.job_id.tolist())}
    rejected = rejected_ids(out)
    assert len(set(rejected)) == len(rejected), f"a job is rejected twice: {out.rejected}"
    space = sched.space
    for jid in rejected:  # a dependant of a rejected job is not rejected with it: it runs without waiting for it
        spec = jobs[jid]  # (sim/links.py, as the trace's note says of a preceding job the replay does not run)
        assert not can_ever_run(request_of(spec, space), case.machine, space), (
            f"job {jid} was rejected but fits the empty machine: {out.rejected}"
        )
    never = never_satisfied(case, out, index)
    for jid, spec in jobs.items():
        i = index[jid]
        started = not math.isnan(out.start[i])
        if jid in rejected or jid in never:  # never: pending for good (DependencyNeverSatisfied), as in Slurm
            assert not started and jid not in rec.starts, f"job {jid} started, rejected or with a failed afterok"
            continue
        assert can_ever_run(request_of(spec, space), case.machine, space), f"job {jid} cannot fit yet was accepted"
        assert started and rec.starts.get(jid) == [out.start[i]], f"job {jid} starts {rec.starts.get(jid)}, not once"
        lowered = rec.limits.get(jid)
        if lowered is not None:  # --time-min: at least the minimum, at most the limit asked; killed at it
            assert spec.time_min is not None and spec.time_min <= lowered <= (spec.time_limit or math.inf), (
                f"job {jid}: limit lowered to {lowered}, asked {spec.time_limit} with --time-min={spec.time_min}"
            )
        ran, whole = out.end[i] - out.start[i], spec.runtime or 0.0
        if lowered is None or ran == whole:
            assert out.end[i] == out.start[i] + whole, f"job {jid} does not end after its runtime"
        else:  # cut at its lowered limit, or later when the head it was cut for could not start (never past --time)
            top = spec.time_limit or math.inf
            assert lowered <= ran < whole and ran <= top, f"job {jid} ran {ran}: cut at {lowered}, whole {whole}"
        assert out.start[i] >= spec.submit_time, f"job {jid} starts at {out.start[i]} before its submission"
        for dep in spec.dependencies:
            if dep.job_id in rejected:  # it never runs: nothing to wait for
                continue
            d = index[dep.job_id]
            assert out.start[i] >= out.end[d], f"job {jid} starts at {out.start[i]} before job {dep.job_id} ends"
        problem = check_alloc(spec, request_of(spec, space), rec.allocs[jid], sched.book)
        assert problem is None, problem
    assert not sched.running and not len(sched.queue), "jobs left behind after the run"
    # a job rejected at submission (it can never fit) is not held, whatever became of its dependencies
    assert set(sched.held) == never - set(rejected), "jobs left waiting whose dependencies could be met"
    assert set(sched.outcomes) == set(rec.starts), "a job that started did not end exactly once"
    assert free_matrix(sched.book).tolist() == free_matrix(case.machine.build("firstfit")[0]).tolist(), (
        "the machine is not whole again after the last job"
    )
    over = sweep_oversubscription(case, out, rec, sched.book)
    assert not over, over[:3]

"""What `hal simulate --placement topology` adds to its table: each started job's span over the tree, and
the leaf fragmentation over time, recorded by watching the engine's plans (the run itself is unchanged)."""

from __future__ import annotations

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plan import Plan
from hal.engine.plugins.topology import TopoIndex
from hal.engine.request import Request
from hal.model.job import JobSpec
from hal.sim.simulator import Outcome
from hal.sim.topo_metrics import TopoSummary, fewest_leaves, fewest_leaves_for, fragmentation, summarize_topology


class TopoRecorder:
    """An ``on_plan`` observer of sim/simulator.py's Simulation on a node book with a topology selector."""

    def __init__(
        self,
        jobs: list[JobSpec],
        index: TopoIndex,
        book: NodeBook,
        sample_every: float = 3600.0,
        unit: int | None = None,
    ) -> None:
        """``unit``: a resource column (GPUs) that work and capacity are counted in; None: nodes (a job holding part
        of a node's CPUs counts that share of it)."""
        self.index, self.book, self.sample_every, self.unit = index, book, sample_every, unit
        self.units = np.zeros(len(jobs), dtype=np.float64)
        self.pos = {j.job_id: i for i, j in enumerate(jobs)}
        n = len(jobs)
        self.nodes = np.zeros(n, dtype=np.int64)
        self.leaves = np.zeros(n, dtype=np.int64)
        self.level = np.zeros(n, dtype=np.int64)
        self.least = np.zeros(n, dtype=np.int64)  # each job's fewest possible leaves, within its partition
        self.frag: list[tuple[float, float]] = []
        self._least: dict[tuple[object, ...], int] = {}
        self._next = -np.inf

    def __call__(self, plan: Plan, sched: Scheduler) -> None:
        for p in plan.starts:
            act = sched.running.get(p.job_id)
            if act is None:
                continue
            i = self.pos[p.job_id]
            nodes = np.asarray(act.alloc.nodes)
            self.nodes[i] = len(nodes)
            self.units[i] = self._units(nodes, np.asarray(act.alloc.amounts))
            self.leaves[i], self.level[i] = self.index.span(nodes)
            req = act.item.req
            key = (req.partition, req.features, req.per_task, req.tasks if req.nodes is None else len(nodes))
            if key not in self._least:
                self._least[key] = self._fewest(req, len(nodes))
            self.least[i] = self._least[key]
        now = self.book.now
        if now >= self._next:
            free, cap = self.book.free, self.book.table.capacity
            whole = (free == cap).all(axis=1).astype(np.int64)
            self.frag.append((now, fragmentation(self.index, self.index.leaf, whole, np.ones_like(whole))))
            self._next = now + self.sample_every

    def _units(self, nodes: np.ndarray, amounts: np.ndarray) -> float:
        """What a job holds: its GPUs (``unit``), else the share of each node's CPUs it holds, a whole node 1
        (counting every node a job touched as busy put two 1-CPU jobs on one node at 2 nodes busy, QA)."""
        if self.unit is not None:
            return float(amounts[:, self.unit].sum())
        cpus = self.book.table.capacity[nodes, 0]
        return float((amounts[:, 0] / np.maximum(cpus, 1)).sum())

    def _fewest(self, req: Request, nodes: int) -> int:
        """Whole nodes: the fewest leaves holding that many eligible nodes. Tasks: the fewest leaves whose nodes
        hold all its tasks (counting nodes there made every task-count job 'fewest': none was eligible for all
        its tasks on one node, so the minimum came out larger than any span)."""
        if req.nodes is not None:
            return fewest_leaves(self.index, nodes, self.book.eligible(req))
        per = np.asarray(req.per_task, dtype=np.int64)
        cap = self.book.table.capacity
        used = per > 0
        units = (cap[:, used] // per[used]).min(axis=1) if used.any() else np.full(len(cap), req.tasks)
        units = np.where(self.book.allowed(req), units, 0).astype(np.int64)
        return fewest_leaves_for(self.index, units, req.tasks)

    def summary(self, out: Outcome, cut: frozenset[int] = frozenset()) -> TopoSummary:
        """Spans and fragmentation; wait, bsld and utilization as the main table counts them (nodes, or GPUs):
        the work of jobs killed at a partition's max_time (``cut``) is lost, as that of jobs the stretch killed."""
        cap = self.book.table.capacity
        at_limit = np.isin(out.job_id, np.fromiter(cut, dtype=np.int64)) if cut else None
        capacity = float(len(cap)) if self.unit is None else float(cap[:, self.unit].sum())
        return summarize_topology(
            self.index, self.nodes, self.leaves, self.level, out.submit, out.start, out.end,
            out.run if out.base_run is None else out.base_run,
            self.units, capacity, self.index.leaf, self.frag, self.least, out.stretch_killed, at_limit,
        )  # fmt: skip

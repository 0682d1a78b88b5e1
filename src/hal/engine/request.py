"""What a job needs from the machine, in the vector form the capacity books work with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.model.job import JobSpec
from hal.model.resources import BASE_NAMES, ResourceSpace

MEM, GPUS = BASE_NAMES.index("mem_mb"), BASE_NAMES.index("gpus")


@dataclass(frozen=True, slots=True)
class Request:
    """``tasks`` units of ``per_task`` packed onto nodes, or exactly ``nodes`` nodes when set."""

    tasks: int
    per_task: tuple[int, ...]
    nodes: int | None
    exclusive: bool
    partition: str
    features: tuple[str, ...]
    total: tuple[int, ...]
    node_names: tuple[str, ...] = ()  # -w/--nodelist
    exclude_nodes: tuple[str, ...] = ()  # -x/--exclude
    # Topology and data (read by engine/plugins/topology.py; defaults mean "no constraint").
    switches: int | None = None
    switches_wait: float | None = None
    topology_required: str = ""
    topology_preferred: str = ""
    segment: int | None = None
    inputs: tuple[str, ...] = ()
    submit: float = 0.0
    limit: float = 0.0  # the job's time limit: a selector may pack jobs that end together (not in ``shape``)
    # Slurm's --exclusive=user|mcs|topo (engine/sharing.py): "user" (mcs too: HAL has no MCS labels, and the user
    # is the finest label any MCS plugin gives) shares nodes with its user's jobs only; "topo" keeps its blocks
    share: str = ""
    user: str = ""  # who asked: nodes an --exclusive=user job holds are its user's
    node_mem_mb: int = 0  # a -N job's --mem: every node holds it (0: memory scales with the node's tasks)
    node_gpus: int = 0  # a -N job's --gpus-per-node / --gres=gpu:N, likewise

    @property
    def adds_nodes(self) -> bool:
        """-N above the -w list: the listed nodes and others (engine/listed_nodes.py), not the listed ones only."""
        return bool(self.node_names) and self.nodes is not None and self.nodes > len(set(self.node_names))

    def per_node(self) -> npt.NDArray[np.int64]:
        """Amount each node must give when the node count is pinned (tasks spread evenly, rounded up; per-node
        asks as they are)."""
        nodes = self.nodes or 1
        per_node_tasks = -(-self.tasks // nodes)
        return self._fixed(np.array(self.per_task, dtype=np.int64) * per_node_tasks)

    def _fixed(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``rows`` (one node's amounts, or one row per node) with the per-node asks in their columns."""
        if self.node_mem_mb:
            rows[..., MEM] = self.node_mem_mb
        if self.node_gpus:
            rows[..., GPUS] = self.node_gpus
        return rows

    def node_amounts(self) -> npt.NDArray[np.int64]:
        """What each of the ``nodes`` nodes holds, by block distribution: Slurm gives -N 2 -n 3 two tasks' CPUs (and
        per-task GPUs and memory) on the first node and one task's on the second, so the rest of ``per_node`` stays
        free for other jobs (it held the same on every node, and a GPU no task could use); per-node asks (--mem,
        --gpus-per-node) are held whole on each node. Placement still asks every node for ``per_node``."""
        nodes = self.nodes or 1
        base, extra = divmod(self.tasks, nodes)
        if not extra or not base:  # even (or fewer tasks than nodes: one task's share each, as before)
            return np.tile(self.per_node(), (nodes, 1))
        counts = np.full(nodes, base, dtype=np.int64)
        counts[:extra] += 1
        per = np.array(self.per_task, dtype=np.int64)
        return self._fixed(counts[:, None] * per[None, :])

    @property
    def shape(self) -> tuple[object, ...]:
        """Two requests with the same shape fit or fail together (Slurm's per-cycle memo)."""
        topo = (self.switches, self.switches_wait, self.submit if self.switches or self.inputs else None)
        placed = (self.topology_required, self.topology_preferred, self.segment, self.inputs)
        whose = self.user if self.share == "user" else ""  # an --exclusive=user job's placement depends on whose it is
        return (
            self.tasks, self.per_task, self.nodes, self.exclusive, self.partition, self.features, self.node_names,
            self.exclude_nodes, *topo, *placed, self.share, whose, self.node_mem_mb, self.node_gpus,
        )  # fmt: skip


SHARES = {"user": "user", "mcs": "user", "topo": "topo"}


def request_of(job: JobSpec, space: ResourceSpace) -> Request:
    vec = space.vector(job.per_task)
    whole = job.exclusive is True
    total = vec * job.tasks
    if job.nodes and job.node_mem_mb:  # per-node asks count once a node
        total[MEM] = job.node_mem_mb * job.nodes
    if job.nodes and job.node_gpus:
        total[GPUS] = job.node_gpus * job.nodes
    return Request(
        tasks=job.tasks,
        per_task=tuple(int(v) for v in vec),
        nodes=job.nodes,
        exclusive=whole,
        partition=job.partition,
        features=job.features,
        total=tuple(int(v) for v in total),
        node_names=job.node_names,
        exclude_nodes=job.exclude_nodes,
        switches=job.switches,
        switches_wait=job.switches_wait,
        topology_required=job.topology_required,
        topology_preferred=job.topology_preferred,
        segment=job.segment,
        inputs=job.inputs,
        submit=job.submit_time if job.begin_time is None else max(job.submit_time, job.begin_time),
        limit=job.time_limit or 0.0,
        share="" if whole or not job.exclusive else SHARES[str(job.exclusive)],
        user=job.user,
        node_mem_mb=job.node_mem_mb if job.nodes else 0,
        node_gpus=job.node_gpus if job.nodes else 0,
    )

"""What a job needs from the machine, in the vector form the capacity books work with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace


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

    def per_node(self) -> npt.NDArray[np.int64]:
        """Amount each node must give when the node count is pinned (tasks spread evenly, rounded up)."""
        nodes = self.nodes or 1
        per_node_tasks = -(-self.tasks // nodes)
        return np.array(self.per_task, dtype=np.int64) * per_node_tasks

    @property
    def shape(self) -> tuple[object, ...]:
        """Two requests with the same shape fit or fail together (Slurm's per-cycle memo)."""
        return (self.tasks, self.per_task, self.nodes, self.exclusive, self.partition, self.features)


def request_of(job: JobSpec, space: ResourceSpace) -> Request:
    vec = space.vector(job.per_task)
    return Request(
        tasks=job.tasks,
        per_task=tuple(int(v) for v in vec),
        nodes=job.nodes,
        exclusive=job.exclusive,
        partition=job.partition,
        features=job.features,
        total=tuple(int(v) * job.tasks for v in vec),
    )

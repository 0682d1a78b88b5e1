"""The engine's extension points: what a plugin must offer to sort, filter, score or predict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hal.model.cluster import NodeTable
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class Estimate:
    """A runtime prediction: the point the planner uses and an upper quantile for start-time bands."""

    point: float
    upper: float


@dataclass(slots=True)
class Context:
    """What a plugin may read besides the job: the time and site-wide state such as fair-share usage."""

    now: float = 0.0
    usage: dict[str, float] = field(default_factory=dict)  # decayed usage per user (cpu-seconds)
    total_usage: float = 0.0
    total_cpus: int = 1
    partition_priority: dict[str, float] = field(default_factory=dict)  # the partition factor, in [0, 1]
    # Slurm's PriorityTier per partition ("": the default partition's); empty unless the site has several tiers,
    # when the queue takes higher tiers first (engine/tiers.py)
    partition_tier: dict[str, int] = field(default_factory=dict)
    qos_priority: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class QueueSort(Protocol):
    """Orders the pending queue by keys, smallest first; ties fall back to submission order.

    A static sort's key never changes while a job waits, so the queue is kept sorted on insert;
    a dynamic sort (age, fair share) is recomputed each cycle over whole arrays.
    """

    name: str
    static: bool

    def key(self, job: JobSpec, estimate: float) -> float: ...

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]: ...


@runtime_checkable
class Filter(Protocol):
    """Rejects nodes a job cannot use, with a reason for the rejected group."""

    name: str

    def filter(self, job: JobSpec, nodes: NodeTable, ctx: Context) -> tuple[npt.NDArray[np.bool_], str]: ...


@runtime_checkable
class Score(Protocol):
    """Scores feasible nodes in [0, 1]; the profile weights and sums the scores."""

    name: str

    def score(
        self,
        job: JobSpec,
        free: npt.NDArray[np.int64],
        nodes: NodeTable,
        mask: npt.NDArray[np.bool_],
        ctx: Context,
    ) -> npt.NDArray[np.float64]: ...


@runtime_checkable
class RuntimePredictor(Protocol):
    """Predicts a job's runtime at submission; learns only from completions delivered in time order."""

    name: str

    def predict(self, job: JobSpec) -> Estimate: ...

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None: ...

"""Partition priority tiers: which partitions' jobs the queue considers first, and multifactor's partition factor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context, QueueSort
from hal.model.job import JobSpec


def use_tiers(ctx: Context, book: Any, queue: Any) -> None:
    """Fill ``ctx`` from the cluster's partitions (the book's node table): the partition factor is each partition's
    tier over the largest (as a Slurm site with PriorityJobFactor = PriorityTier sees it), and the queue orders by
    tier first only when the site has more than one tier, so a cluster without tiers schedules as before (a static
    order, kept sorted on insert, through ``TieredOrder``; a dynamic one each cycle, engine/queue.py)."""
    tiers: dict[str, int] = dict(getattr(getattr(book, "table", None), "partition_tiers", None) or {})
    if not tiers:
        return
    top = max(tiers.values())
    ctx.partition_priority = {name: (tier / top if top > 0 else 1.0) for name, tier in tiers.items()}
    ctx.partition_tier = tiers if len(set(tiers.values())) > 1 else {}
    if ctx.partition_tier and queue.order.static and not len(queue):
        queue.order = TieredOrder(queue.order, ctx.partition_tier)


class TieredOrder:
    """A static order (FCFS, SJF, ...) behind partition tiers: its key is (minus the job's tier, the order's key), so
    the queue, kept sorted on insert, holds the highest tier's jobs first (Slurm's PriorityTier, whatever the
    priority plugin). Copies of the queue (forecasts) reuse this order, so they keep the tiers too."""

    static = True

    def __init__(self, inner: QueueSort, tiers: dict[str, int]) -> None:
        self.inner, self.tiers, self.name = inner, tiers, inner.name

    def key(self, job: JobSpec, estimate: float) -> Any:  # a tuple: sorts as the pair, never mixed with floats
        return (-job_value(job.partition, self.tiers, 0), self.inner.key(job, estimate))

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return self.inner.keys(jobs, estimates, ctx)

    def __getattr__(self, name: str) -> Any:  # the order's own settings (args, ...)
        return getattr(self.inner, name)


def job_value(partition: str, table: dict[str, Any], default: Any) -> Any:
    """A job's value in a per-partition table: "a,b" (-p a,b) takes the largest among them, since Slurm considers
    such a job in each partition's queue, so first in its highest tier's; a job naming none, the default's."""
    if "," not in partition:
        return table.get(partition, default)
    return max((table.get(p, default) for p in partition.split(",") if p), default=default)


def tier_keys(codes: npt.NDArray[np.intp], names: list[str], ctx: Context) -> npt.NDArray[np.float64] | None:
    """Per queued job, minus its tier (smallest first: the highest tier first); None when the site has one tier."""
    if not ctx.partition_tier:
        return None
    table = np.array([-float(job_value(n, ctx.partition_tier, 0)) for n in names] or [0.0], dtype=np.float64)
    out: npt.NDArray[np.float64] = table[codes]
    return out

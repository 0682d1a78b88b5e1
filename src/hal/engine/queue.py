"""The pending queue: kept sorted on insert for static orders, re-keyed each cycle for dynamic ones."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from hal.engine.api import Context, QueueSort
from hal.engine.request import Request
from hal.model.job import JobSpec


@dataclass(slots=True)
class Waiting:
    spec: JobSpec
    req: Request
    estimate: float
    upper: float
    seq: int
    cpus: int


class PendingQueue:
    """Jobs eligible to start, in priority order; ties fall back to submission order."""

    def __init__(self, order: QueueSort) -> None:
        self.order = order
        self._items: list[tuple[float, int, Waiting]] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Waiting) -> None:
        key = self.order.key(item.spec, item.estimate) if self.order.static else 0.0
        entry = (key, item.seq, item)
        items = self._items
        if not items or entry[:2] >= items[-1][:2]:
            items.append(entry)
        else:
            bisect.insort(items, entry)  # seq is unique, so items are never compared

    def ordered(self, ctx: Context) -> list[Waiting]:
        """The queue in priority order for this cycle."""
        if self.order.static:
            return [e[2] for e in self._items]
        waiting = [e[2] for e in self._items]
        if not waiting:
            return waiting
        keys = self.order.keys(
            [w.spec for w in waiting],
            np.fromiter((w.estimate for w in waiting), np.float64, len(waiting)),
            ctx,
        )
        seqs = np.fromiter((w.seq for w in waiting), np.int64, len(waiting))
        idx = np.lexsort((seqs, keys))
        return [waiting[i] for i in idx]

    def head(self) -> Waiting | None:
        return self._items[0][2] if self.order.static and self._items else None

    def pop_head(self) -> None:
        del self._items[0]

    def remove(self, job_ids: set[int]) -> None:
        self._items = [e for e in self._items if e[2].spec.job_id not in job_ids]

    def items(self) -> list[Waiting]:
        return [e[2] for e in self._items]

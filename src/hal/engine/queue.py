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
    """A pending job as the planner sees it.

    ``family``/``size``/``shape`` are the book's memo keys (see ``Book.memo_key``), interned to small ints
    by the Scheduler: within a pass, a request that failed to fit rules out every request of its family
    that is at least as large, and a shape that failed the EASY extra rule rules out the same shape.
    """

    spec: JobSpec
    req: Request
    estimate: float
    upper: float
    seq: int
    cpus: int
    family: int = -1
    size: int = 0
    shape: int = -1


class PendingQueue:
    """Jobs eligible to start, in priority order; ties fall back to submission order."""

    def __init__(self, order: QueueSort) -> None:
        self.order = order
        self._items: list[tuple[float, int, Waiting]] = []
        self._fresh: list[tuple[float, int, Waiting]] = []  # added since the last take_fresh()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Waiting) -> None:
        key = self.order.key(item.spec, item.estimate) if self.order.static else 0.0
        entry = (key, item.seq, item)
        self._fresh.append(entry)
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

    def take_fresh(self, waiting: list[Waiting] | None) -> list[Waiting]:
        """The jobs added since the last call, in queue order (``waiting``: this cycle's dynamic order).

        The caller knows they are all still queued (nothing left the queue but by starting as a head).
        """
        fresh, self._fresh = self._fresh, []
        if not fresh:
            return []
        if waiting is None:
            fresh.sort(key=lambda e: e[:2])  # the static queue's own order
            return [e[2] for e in fresh]
        seqs = {e[1] for e in fresh}
        return [w for w in waiting if w.seq in seqs]

    def ends_with(self, items: list[Waiting]) -> bool:
        """Whether ``items`` are the last jobs of the queue, in order (newcomers that sort after everyone)."""
        k = len(items)
        if k > len(self._items):
            return False
        return all(e[2] is w for e, w in zip(self._items[len(self._items) - k :], items, strict=True))

    def forget_fresh(self) -> None:
        self._fresh = []

"""The pending queue: kept sorted on insert for static orders, re-keyed each cycle for dynamic ones."""

from __future__ import annotations

import bisect
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


@dataclass(slots=True)
class JobColumns:
    """Per-job attributes of a dynamic queue as arrays, in queue order; strings are codes into ``names``."""

    submit: npt.NDArray[np.float64]
    procs: npt.NDArray[np.float64]
    nice: npt.NDArray[np.float64]
    estimate: npt.NDArray[np.float64]
    seq: npt.NDArray[np.int64]
    user: npt.NDArray[np.intp]
    partition: npt.NDArray[np.intp]
    qos: npt.NDArray[np.intp]
    names: list[str]

    def take(self, keep: npt.NDArray[np.bool_]) -> JobColumns:
        c = self
        return JobColumns(
            c.submit[keep], c.procs[keep], c.nice[keep], c.estimate[keep], c.seq[keep],
            c.user[keep], c.partition[keep], c.qos[keep], c.names,
        )  # fmt: skip

    def extend(self, t: JobColumns) -> JobColumns:
        c, cat = self, np.concatenate
        return JobColumns(
            cat((c.submit, t.submit)), cat((c.procs, t.procs)), cat((c.nice, t.nice)),
            cat((c.estimate, t.estimate)), cat((c.seq, t.seq)), cat((c.user, t.user)),
            cat((c.partition, t.partition)), cat((c.qos, t.qos)), c.names,
        )  # fmt: skip


class QueueJobs(list[JobSpec]):
    """The specs a dynamic order scores, with the same jobs as columns (an order may use either)."""

    columns: JobColumns


# Up to this many jobs leave a queue by deleting each in place (a memmove of the tail); more rebuild the tail
# once. Removing more than 1/_SCAN_SHARE of the queue scans it instead: a bisection costs about as much as
# looking at 8-10 jobs in a scan (see benchmarks/queue_remove.py).
_DEL_EACH = 16
_SCAN_SHARE = 8


class PendingQueue:
    """Jobs eligible to start, in priority order; ties fall back to submission order."""

    def __init__(self, order: QueueSort) -> None:
        self.order = order
        self._items: list[tuple[float, int, Waiting]] = []
        self._fresh: list[tuple[float, int, Waiting]] = []  # added since the last take_fresh()
        # Dynamic orders: columns of the first ``_ncols`` queued jobs, kept across cycles (rebuilding them
        # from the job objects every cycle was most of a dynamic cycle's cost).
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        self._cols = self._columns([])
        self._ncols = 0
        self.cpuless = 0  # queued jobs that need no processor: backfilling cannot stop when the CPUs run out
        # A job's entry without a scan (reasons were a scan per listed job); its (key, seq) finds its place by
        # bisection, so removing jobs costs per job removed, not per job queued.
        self._entry: dict[int, tuple[float, int, Waiting]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Waiting) -> None:
        key = self.order.key(item.spec, item.estimate) if self.order.static else 0.0
        entry = (key, item.seq, item)
        self._fresh.append(entry)
        self._entry[item.spec.job_id] = entry
        if item.cpus == 0:
            self.cpuless += 1
        items = self._items
        if not items or entry[:2] >= items[-1][:2]:
            items.append(entry)
        else:
            bisect.insort(items, entry)  # seq is unique, so items are never compared
            self._ncols = 0

    def ordered(self, ctx: Context) -> list[Waiting]:
        """The queue in priority order for this cycle."""
        if self.order.static:
            return [e[2] for e in self._items]
        waiting = [e[2] for e in self._items]
        if not waiting:
            return waiting
        cols = self.columns()
        jobs = QueueJobs([w.spec for w in waiting])
        jobs.columns = cols
        keys = self.order.keys(jobs, cols.estimate, ctx)
        idx = np.lexsort((cols.seq, keys))
        return [waiting[i] for i in idx.tolist()]

    def columns(self) -> JobColumns:
        """The queued jobs as columns, extended by the jobs added since the last call."""
        n = len(self._items)
        if self._ncols < n or not n:  # empty: not the columns of jobs popped since
            tail = self._columns([e[2] for e in self._items[self._ncols :]])
            self._cols = tail if self._ncols == 0 else self._cols.extend(tail)
            self._ncols = n
        return self._cols

    def _columns(self, items: list[Waiting]) -> JobColumns:
        n = len(items)
        codes, names = self._codes, self._names

        def code(text: str) -> int:
            c = codes.get(text)
            if c is None:
                c = codes[text] = len(names)
                names.append(text)
            return c

        specs = [w.spec for w in items]
        return JobColumns(
            np.fromiter((j.submit_time for j in specs), np.float64, n),
            np.fromiter((j.tasks * j.per_task.cpus for j in specs), np.float64, n),
            np.fromiter((j.nice for j in specs), np.float64, n),
            np.fromiter((w.estimate for w in items), np.float64, n),
            np.fromiter((w.seq for w in items), np.int64, n),
            np.fromiter((code(j.user) for j in specs), np.intp, n),
            np.fromiter((code(j.partition) for j in specs), np.intp, n),
            np.fromiter((code(j.qos) for j in specs), np.intp, n),
            names,
        )

    def head(self) -> Waiting | None:
        return self._items[0][2] if self.order.static and self._items else None

    def pop_head(self) -> None:
        if self._items[0][2].cpus == 0:
            self.cpuless -= 1
        self._entry.pop(self._items[0][2].spec.job_id, None)
        del self._items[0]
        self._ncols = 0

    def remove(self, job_ids: Collection[int]) -> None:
        """Take these jobs out (ids not queued are ignored), at a cost per job removed: each is found by
        bisection and the columns lose its row by a mask (a scan of the whole queue per call was a third of a
        cycle that starts jobs from a long queue)."""
        items, entries = self._items, self._entry
        if len(entries) != len(items) or len(job_ids) * _SCAN_SHARE > len(items):  # or an id queued twice
            self._remove_scan(job_ids)
            return
        where: list[int] = []
        cpuless = 0
        for job_id in job_ids:
            e = entries.pop(job_id, None)
            if e is None:
                continue
            i = bisect.bisect_left(items, e[:2])
            if i == len(items) or items[i] is not e:  # equal (key, seq) twice, or keys that do not sort
                i = next(j for j, x in enumerate(items) if x is e)
            where.append(i)
            cpuless += e[2].cpus == 0
        if not where:
            return
        where.sort()
        self.cpuless -= cpuless
        n = self._ncols
        if n:
            rows = where[: bisect.bisect_left(where, n)]
            if rows:
                keep = np.ones(n, np.bool_)
                keep[rows] = False
                self._cols = self._cols.take(keep)
                self._ncols = n - len(rows)
        if len(where) <= _DEL_EACH:
            for i in reversed(where):
                del items[i]
            return
        tail: list[tuple[float, int, Waiting]] = []
        prev = where[0]
        for i in where:
            tail += items[prev:i]
            prev = i + 1
        tail += items[prev:]
        items[where[0] :] = tail

    def _remove_scan(self, job_ids: Collection[int]) -> None:
        """Removal by a scan of the whole queue: for many jobs at once, or a job id queued more than once."""
        items = self._items
        if self._ncols:
            n = self._ncols
            keep = np.fromiter((e[2].spec.job_id not in job_ids for e in items[:n]), np.bool_, n)
            self._cols = self._cols.take(keep)
            self._ncols = int(keep.sum())
        self._items = [e for e in items if e[2].spec.job_id not in job_ids]
        for job_id in job_ids:
            self._entry.pop(job_id, None)
        if self.cpuless:
            self.cpuless = sum(1 for e in self._items if e[2].cpus == 0)

    def items(self) -> list[Waiting]:
        return [e[2] for e in self._items]

    def get(self, job_id: int) -> Waiting | None:
        e = self._entry.get(job_id)
        return None if e is None else e[2]

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

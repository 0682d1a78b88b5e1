"""The pending queue: kept sorted on insert for static orders, re-keyed each cycle for dynamic ones."""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context, QueueSort
from hal.engine.request import Request
from hal.engine.tiers import tier_keys
from hal.model.job import JobSpec


@dataclass(slots=True)
class Waiting:
    """A pending job as the planner sees it.

    ``family``/``size``/``shape`` are the book's memo keys (see ``Book.memo_key``), interned to small ints
    by the Scheduler: within a pass, a request that failed to fit rules out every request of its family
    that is at least as large, and a shape that failed the EASY extra rule rules out the same shape.

    ``ranked``: the runtime the queue order ranks it by when that is not ``estimate``. A forward run that
    plans on other durations (requested times, as ``squeue --start`` does) keeps the scheduler's own order,
    which ranks by its predictions (engine/forward.py); None everywhere else.
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
    ranked: float | None = None
    eligible: float = -math.inf  # when it left the engine's hold (a release, its dependencies met): its age counts on

    @property
    def rank_estimate(self) -> float:
        """The runtime estimate the queue order sees."""
        return self.estimate if self.ranked is None else self.ranked


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
    eligible: npt.NDArray[np.float64] | None = None  # since when each could start (Slurm's EligibleTime)


class QueueJobs(list[JobSpec]):
    """The specs a dynamic order scores, with the same jobs as columns (an order may use either)."""

    columns: JobColumns


# Up to this many jobs leave a queue by deleting each in place (a memmove of the tail); more rebuild the tail
# once. Removing more than 1/_SCAN_SHARE of the queue scans it instead: a bisection costs about as much as
# looking at 8-10 jobs in a scan (see benchmarks/queue_remove.py).
_DEL_EACH = 16
_SCAN_SHARE = 8


_HINTED = 512  # from this many queued jobs on, a dynamic order is sorted starting from the last one


class _Rows:
    """A dynamic queue's first ``n`` jobs as rows ``lo..lo+n`` of three tables with room to grow: numbers
    (submit, procs, nice, estimate, eligible time), integers (seq and the user, partition and qos codes) and objects
    (the job and its spec, so a cycle's spec list and order are built in C, not in Python).

    A row once written is never changed, so columns handed out stay as they were: jobs are appended past the
    end, the first ones leave by moving ``lo``, and any other removal copies the kept rows to new tables.
    """

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.names: list[str] = []
        self.lo = self.n = 0
        self.num: npt.NDArray[Any] = np.empty((0, 5), np.float64)
        self.int: npt.NDArray[Any] = np.empty((0, 4), np.intp)
        self.obj: npt.NDArray[Any] = np.empty((0, 2), object)
        self._view: JobColumns | None = None
        # The last order as row offsets (rows appended since come after it): the next cycle's keys, taken
        # in this order, are nearly sorted already, which a stable sort (timsort) exploits.
        self.perm: npt.NDArray[np.intp] | None = None

    def _code(self, text: str) -> int:
        c = self.codes.get(text)
        if c is None:
            c = self.codes[text] = len(self.names)
            self.names.append(text)
        return c

    def _moved(self, m: int, keep: npt.NDArray[np.bool_] | None = None, room: int = 0) -> None:
        """Copy the first ``m`` rows (or the ``m`` rows ``keep`` marks) to new tables, with room to grow."""
        cap, at = m + room + max(64, (m + room) // 4), slice(self.lo, self.lo + (m if keep is None else self.n))
        tables = []
        for old in (self.num, self.int, self.obj):
            new = np.empty((cap, old.shape[1]), old.dtype)
            new[:m] = old[at] if keep is None else old[at][keep]
            tables.append(new)
        self.num, self.int, self.obj = tables
        self.lo, self.n, self._view = 0, m, None

    def append(self, items: list[Waiting]) -> None:
        k, n = len(items), self.n
        if self.lo + n + k > len(self.num):
            self._moved(n, room=k)
        code, at = self._code, slice(self.lo + n, self.lo + n + k)
        self.num[at] = [(w.spec.submit_time, w.spec.procs, w.spec.nice, w.rank_estimate, eligible(w)) for w in items]
        self.int[at] = [(w.seq, code(w.spec.user), code(w.spec.partition), code(w.spec.qos)) for w in items]
        self.obj[at] = [(w, w.spec) for w in items]
        self.n += k
        self._view = None

    def drop(self, rows: list[int]) -> None:
        """Take out these rows (sorted, distinct, each below ``n``)."""
        k, p = len(rows), self.perm
        if rows[-1] == k - 1:  # only the first rows go (heads started): no copy
            self.lo, self.n, self._view = self.lo + k, self.n - k, None
            self.perm = None if p is None else p[p >= k] - k
            return
        keep = np.ones(self.n, np.bool_)
        keep[rows] = False
        self._moved(self.n - k, keep)
        if p is not None:
            self.perm = (np.cumsum(keep) - 1)[p[keep[p]]]

    def truncate(self, m: int) -> None:
        """Keep only the first ``m`` rows (a job inserted before the end displaces those after it)."""
        self._moved(m)
        self.perm = None

    def order(
        self, keys: npt.NDArray[np.float64], first: npt.NDArray[np.float64] | None = None
    ) -> npt.NDArray[np.intp]:
        """Row offsets by (key, seq): by key in the last order, unless that breaks a tie against rows' order;
        by ``first`` before the key when given (partition tiers)."""
        keys, seq, p = np.asarray(keys), self.int[self.lo : self.lo + self.n, 0], self.perm
        idx: npt.NDArray[np.intp] | None = None
        if first is not None:
            idx = np.lexsort((seq, keys, first))
        elif p is not None and self.n >= _HINTED:
            if len(p) < self.n:
                p = np.concatenate((p, np.arange(len(p), self.n)))
            idx = p[np.argsort(keys[p], kind="stable")]
            ks = keys[idx]  # rows are in seq order, so ties must be too; NaNs (last) cannot be checked
            if np.isnan(ks[-1]) or ((ks[1:] == ks[:-1]) & (idx[1:] < idx[:-1])).any():
                idx = None
        if idx is None:
            idx = np.lexsort((seq, keys))
        self.perm = idx
        return idx

    def columns(self) -> JobColumns:
        if self._view is None:
            at = slice(self.lo, self.lo + self.n)
            num, ints = self.num[at], self.int[at]
            num.flags.writeable = ints.flags.writeable = False  # so are the columns, views of these
            self._view = JobColumns(
                num[:, 0],
                num[:, 1],
                num[:, 2],
                num[:, 3],
                ints[:, 0],
                ints[:, 1],
                ints[:, 2],
                ints[:, 3],
                self.names,
                num[:, 4],
            )
        return self._view

    def specs(self) -> list[JobSpec]:
        out: list[JobSpec] = self.obj[self.lo : self.lo + self.n, 1].tolist()
        return out

    def jobs_in(self, idx: npt.NDArray[np.intp]) -> list[Waiting]:
        out: list[Waiting] = self.obj[self.lo : self.lo + self.n, 0][idx].tolist()
        return out


def eligible(w: Waiting) -> float:
    """Since when a queued job could start: its submission, its --begin, its release or its dependencies met."""
    begin = w.spec.begin_time
    return max(w.spec.submit_time, begin if begin is not None else -math.inf, w.eligible)


class PendingQueue:
    """Jobs eligible to start, in priority order; ties fall back to submission order."""

    def __init__(self, order: QueueSort) -> None:
        self.order = order
        self._items: list[tuple[float, int, Waiting]] = []
        self._fresh: list[tuple[float, int, Waiting]] = []  # added since the last take_fresh()
        # Dynamic orders: columns of the first ``_rows.n`` queued jobs, kept across cycles (rebuilding them
        # from the job objects every cycle was most of a dynamic cycle's cost).
        self._rows = _Rows()
        self.cpuless = 0  # queued jobs that need no processor: backfilling cannot stop when the CPUs run out
        # A job's entry without a scan (reasons were a scan per listed job); its (key, seq) finds its place by
        # bisection, so removing jobs costs per job removed, not per job queued.
        self._entry: dict[int, tuple[float, int, Waiting]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Waiting) -> None:
        key = self.order.key(item.spec, item.rank_estimate) if self.order.static else 0.0
        entry = (key, item.seq, item)
        self._fresh.append(entry)
        self._entry[item.spec.job_id] = entry
        if item.cpus == 0:
            self.cpuless += 1
        items = self._items
        if not items or entry[:2] >= items[-1][:2]:
            items.append(entry)
        else:
            i = bisect.bisect_right(items, entry[:2])  # before any equal (key, seq): items are never compared
            items.insert(i, entry)
            if i < self._rows.n:
                self._rows.truncate(i)

    def ordered(self, ctx: Context) -> list[Waiting]:
        """The queue in priority order for this cycle."""
        if self.order.static:
            return [e[2] for e in self._items]
        if not self._items:
            return []
        cols = self.columns()
        jobs = QueueJobs(self._rows.specs())
        jobs.columns = cols
        keys = self.order.keys(jobs, cols.estimate, ctx)
        return self._rows.jobs_in(self._rows.order(keys, tier_keys(cols.partition, cols.names, ctx)))

    def columns(self) -> JobColumns:
        """The queued jobs as columns (read-only), extended by the jobs added since the last call."""
        rows, n = self._rows, len(self._items)
        if rows.n < n:
            rows.append([e[2] for e in self._items[rows.n :]])
        return rows.columns()

    def head(self) -> Waiting | None:
        return self._items[0][2] if self.order.static and self._items else None

    def pop_head(self) -> None:
        if self._items[0][2].cpus == 0:
            self.cpuless -= 1
        self._entry.pop(self._items[0][2].spec.job_id, None)
        del self._items[0]
        if self._rows.n:
            self._rows.drop([0])

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
        n = self._rows.n
        if n:
            rows = where[: bisect.bisect_left(where, n)]
            if rows:
                self._rows.drop(rows)
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
        if self._rows.n:
            n = self._rows.n
            gone = [i for i, e in enumerate(items[:n]) if e[2].spec.job_id in job_ids]
            if gone:
                self._rows.drop(gone)
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

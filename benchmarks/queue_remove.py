"""What removing jobs from the pending queue costs, before and after removal by bisection.

Micro (default): queues of 1k/5k/20k jobs in a static order (fcfs) and a dynamic one (wfp3, with the cached
columns built, as a dynamic cycle leaves them), from which ``--calls`` remove calls of k random queued jobs
each are timed (process CPU time); per call, median of ``--repeat`` runs on fresh queues, old against new.
The old ``remove`` is kept below (``OldQueue``) as the baseline.

Macro (``--simulate TRACE``): wall time of ``hal simulate TRACE --order ORDER`` with the tree at ``--old-src``
and the one at ``--new-src`` (default: this checkout's src), alternately (fair under a shared machine's load),
median of ``--repeat``; the per-job CSVs of both must be byte-identical.
Usage: python benchmarks/queue_remove.py [--sizes 1000,5000,20000] [--ks 1,10,100] [--repeat 5]
       python benchmarks/queue_remove.py --simulate TRACE --order wfp3 --old-src OLD/src [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Collection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hal.engine.api import QueueSort
from hal.engine.plugins.fcfs import Fcfs
from hal.engine.plugins.wfp3 import Wfp3
from hal.engine.queue import PendingQueue, Waiting
from hal.engine.request import request_of
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace

ROOT = Path(__file__).resolve().parents[1]


class OldQueue(PendingQueue):
    """BASELINE: ``PendingQueue.remove`` as it was before this change: a Python scan of the whole queue per call
    and a recount of ``cpuless``, which the queue keeps as ``_remove_scan`` for large batches."""

    def remove(self, job_ids: Collection[int]) -> None:
        self._remove_scan(job_ids)


def jobs(n: int) -> list[Waiting]:
    """``n`` queued jobs, a few of them needing no CPU (so ``cpuless`` is kept up)."""
    space, rng, out = ResourceSpace(), random.Random(n), []
    for i in range(n):
        spec = JobSpec(job_id=i, submit_time=float(i), tasks=rng.randint(1, 64), user=f"u{i % 17}")
        req = request_of(spec, space)
        cpus = 0 if i % 50 == 0 else int(req.total[0])
        out.append(Waiting(spec, req, rng.uniform(60, 36000), 36000.0, i, cpus))
    return out


def timed(kind: type[PendingQueue], order: QueueSort, items: list[Waiting], batches: list[set[int]]) -> float:
    """CPU seconds per remove call on a fresh queue."""
    q = kind(order)
    for w in items:
        q.add(w)
    if not order.static:
        q.columns()
    t0 = time.process_time()  # CPU time: the shared machine's load moves wall time by 2x and more
    for ids in batches:
        q.remove(ids)
    spent = time.process_time() - t0
    assert len(q) == len(items) - sum(len(b) for b in batches)
    return spent / len(batches)


def micro(sizes: list[int], ks: list[int], calls: int, repeat: int) -> None:
    print("| order | queued | k removed a call | old (us/call) | new (us/call) | old / new |")
    print("|---|---:|---:|---:|---:|---:|")
    for order in (Fcfs(), Wfp3()):
        for n in sizes:
            items = jobs(n)
            for k in ks:
                rng, c = random.Random(n * 1000 + k), max(1, min(calls, n // (2 * k)))  # at most half goes
                picked = rng.sample(range(n), k * c)
                batches = [set(picked[i * k : (i + 1) * k]) for i in range(c)]
                old, new = [], []
                for _ in range(repeat):  # alternately, so both see the same load
                    old.append(timed(OldQueue, order, items, batches))
                    new.append(timed(PendingQueue, order, items, batches))
                o, m = statistics.median(old) * 1e6, statistics.median(new) * 1e6
                print(f"| {order.name} | {n:,} | {k} | {o:,.1f} | {m:,.1f} | {o / m:,.1f}x |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--ks", default="1,10,100")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--simulate", metavar="TRACE")
    ap.add_argument("--order", default="wfp3")
    ap.add_argument("--old-src")
    ap.add_argument("--new-src", default=str(ROOT / "src"))
    a = ap.parse_args()
    if a.simulate:
        if not a.old_src:
            ap.error("--simulate needs --old-src (a copy of src/ from before the change)")
        from queue_order import macro  # old and new `hal simulate` alternately, same schedule checked

        macro(a.simulate, a.order, [], a.old_src, a.new_src, a.repeat)
    else:
        micro([int(s) for s in a.sizes.split(",")], [int(k) for k in a.ks.split(",")], a.calls, a.repeat)


if __name__ == "__main__":
    main()

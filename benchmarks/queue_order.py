"""What ordering a dynamic pending queue costs per cycle, before and after the cached object/column rows.

Micro (default): a queue of 1k/5k/20k jobs (random sizes, estimates, 50 users with fair-share usage, submitted
over two days) in a dynamic order (wfp3, multifactor); each "cycle" advances the clock by 60 s and, with
``--churn K``, first removes K random queued jobs and adds K new ones (as starts and submissions do), then
calls ``PendingQueue.ordered``. Timed: process CPU time of ``ordered`` alone and of the whole cycle (the
removals and additions included, since the new code keeps its rows in step there), per cycle, median of
``--repeat`` runs. Old and new run in child processes with ``PYTHONPATH`` at ``--old-src`` / ``--new-src``,
alternately (fair under a shared machine's load); the orders both return are checked to be the same.

Macro (``--simulate TRACE``): ``hal simulate TRACE --order ORDER`` with old and new alternately, wall and CPU
seconds, median of ``--repeat``; the per-job CSVs (``--csv-out``) of all runs must be byte-identical.
Usage: python benchmarks/queue_order.py --old-src OLD/src [--sizes 1000,5000,20000] [--churn 0,2] [--repeat 5]
       python benchmarks/queue_order.py --old-src OLD/src --simulate TRACE --order wfp3 [--repeat 3]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def worker(order_name: str, n: int, churn: int, cycles: int, seed: int) -> dict[str, Any]:
    """One run in this process (whichever ``hal`` PYTHONPATH gives): CPU s per cycle and a digest of orders."""
    from hal.engine.api import Context
    from hal.engine.plugins.multifactor import Multifactor
    from hal.engine.plugins.wfp3 import Wfp3
    from hal.engine.queue import PendingQueue, Waiting
    from hal.engine.request import request_of
    from hal.model.job import JobSpec
    from hal.model.resources import ResourceSpace

    space, rng = ResourceSpace(), random.Random(seed)
    users = [f"u{i}" for i in range(50)]

    def job(i: int, submit: float) -> Waiting:
        tasks = rng.choice([1, 2, 4, 8, 16, 64, 256])
        spec = JobSpec(job_id=i, submit_time=submit, tasks=tasks, user=rng.choice(users))
        req = request_of(spec, space)
        est = rng.uniform(60, 36000)
        return Waiting(spec, req, est, est, i, int(req.total[0]))

    now = 2 * 86400.0
    q = PendingQueue(Wfp3() if order_name == "wfp3" else Multifactor())
    for i in range(n):
        q.add(job(i, rng.uniform(0, now)))
    ctx = Context(now=now, total_cpus=4096)
    ctx.usage = {u: rng.uniform(0, 1e7) for u in users}
    ctx.total_usage = sum(ctx.usage.values())
    q.ordered(ctx)  # a first cycle builds the cached columns, as a running scheduler has them
    digest, next_id = hashlib.sha256(), n
    t_order = t_cycle = 0.0
    for _ in range(cycles):
        t0 = time.process_time()
        if churn:
            ids = {w.spec.job_id for w in rng.sample(q.items(), churn)}
            t1 = time.process_time()  # picking the victims is the benchmark's, not the queue's
            q.remove(ids)
            for _ in range(churn):
                q.add(job(next_id, now))
                next_id += 1
            t0 += time.process_time() - t1
        now += 60.0
        ctx.now = now
        t2 = time.process_time()
        out = q.ordered(ctx)
        t3 = time.process_time()
        t_order += t3 - t2
        t_cycle += t3 - t0
        digest.update(b",".join(str(w.seq).encode() for w in out))
    return {"order": t_order / cycles, "cycle": t_cycle / cycles, "digest": digest.hexdigest()}


def child(src: str, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, __file__, "--worker", *args], env=env, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def micro(old_src: str, new_src: str, sizes: list[int], churns: list[int], cycles: int, repeat: int) -> None:
    head = (
        "| order | queued | churn per cycle | ordered() old / new (us) | old / new | cycle old / new (us) | old / new |"
    )
    print(head)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for order in ("wfp3", "multifactor"):
        for n in sizes:
            for churn in churns:
                c = max(5, min(cycles, 2_000_000 // n))
                args = [order, str(n), str(churn), str(c)]
                old, new = [], []
                for r in range(repeat):  # alternately, so both see the same load
                    old.append(child(old_src, [*args, str(r)]))
                    new.append(child(new_src, [*args, str(r)]))
                assert all(o["digest"] == m["digest"] for o, m in zip(old, new, strict=True)), "orders differ"
                oo, no = (statistics.median(x["order"] for x in runs) * 1e6 for runs in (old, new))
                oc, nc = (statistics.median(x["cycle"] for x in runs) * 1e6 for runs in (old, new))
                print(
                    f"| {order} | {n:,} | {churn} | {oo:,.0f} / {no:,.0f} | {oo / no:.1f}x "
                    f"| {oc:,.0f} / {nc:,.0f} | {oc / nc:.1f}x |",
                    flush=True,
                )


def simulate(trace: str, order: str, extra: list[str], src: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``hal simulate`` process."""
    env = {**os.environ, "PYTHONPATH": src}
    cmd = [sys.executable, "-m", "hal", "simulate", trace, "--order", order, *extra, "--csv-out", str(out)]
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def macro(trace: str, order: str, extra: list[str], old_src: str, new_src: str, repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hal-queue-order-"))
    old, new = [], []
    for i in range(repeat):  # alternately, so both see the same load
        old.append(simulate(trace, order, extra, old_src, tmp / f"old{i}.csv"))
        new.append(simulate(trace, order, extra, new_src, tmp / f"new{i}.csv"))
    runs = [tmp / f"{w}{i}.csv" for w in ("old", "new") for i in range(repeat)]
    same = all(filecmp.cmp(runs[0], r, shallow=False) for r in runs)
    ow, nw = statistics.median(t[0] for t in old), statistics.median(t[0] for t in new)
    oc, nc = statistics.median(t[1] for t in old), statistics.median(t[1] for t in new)
    print("| trace | order | wall s, old / new | CPU s, old / new | CPU old / new | per-job CSV identical | load |")
    print("|---|---|---|---|---:|---|---:|")
    load, verdict = os.getloadavg()[0], "yes" if same else "NO"
    label = " ".join([order, *extra])
    row = f"| {Path(trace).name} | {label} | {ow:.1f} / {nw:.1f} | {oc:.1f} / {nc:.1f} | {oc / nc:.2f}x | {verdict}"
    print(f"{row} | {load:.1f} |")
    for name, ts in (("old", old), ("new", new)):
        print(f"{name} runs (wall/CPU s): " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in ts))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        order, n, churn, cycles, seed = sys.argv[2:7]
        print(json.dumps(worker(order, int(n), int(churn), int(cycles), int(seed))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--churn", default="0,2")
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--simulate", metavar="TRACE")
    ap.add_argument("--order", default="wfp3")
    ap.add_argument("--extra", default="", help="more hal simulate options, space-separated")
    ap.add_argument("--old-src", required=True, help="a copy of src/ from before the change")
    ap.add_argument("--new-src", default=str(ROOT / "src"))
    a = ap.parse_args()
    if a.simulate:
        macro(a.simulate, a.order, a.extra.split(), a.old_src, a.new_src, a.repeat)
    else:
        sizes, churns = [int(s) for s in a.sizes.split(",")], [int(c) for c in a.churn.split(",")]
        micro(a.old_src, a.new_src, sizes, churns, a.cycles, a.repeat)


if __name__ == "__main__":
    main()

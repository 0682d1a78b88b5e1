"""One scheduling cycle at scale: multifactor + EASY on a node table, by node count and by pending jobs.

    python benchmarks/cycle_scale.py                     # 1k/10k/20k nodes x 50k pending, 10k nodes x 10k/50k/100k
    python benchmarks/cycle_scale.py --grid 10000:50000 --repeats 5

The state is built through the Scheduler as a shell would: jobs are submitted and a first cycle starts
enough of them to fill 99% of the cores, then 4% of them end (free cores in scattered holes); then
the pending jobs are submitted (random sizes, memory, limits, 500 users with fair-share usage, submitted
over two days). Two cycles are timed: the first one that sees the pending jobs ("bulk": every job is new,
small ones backfill into the fragments) and the next one after 1% of the running jobs end ("steady").
Times are CPU seconds of the process (the machine is shared), medians over seeds 0..repeats-1.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from speedlib import engine_source, median, table

CORES, MEM = 32, 128_000
NOW = 2 * 86400.0
START = NOW - 600.0  # the running jobs started ten minutes ago
RUN_MEM = [1000, 2000, 3000, 4000]  # MB per task: at most a core's share (128 GB / 32 cores)
PENDING_MEM = [1000, 2000, 4000, 8000, 16000]  # some pending jobs need more memory than the holes have
USERS = 500


def sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Task counts: many small jobs, a tail of large ones (roughly the shape of the archive traces)."""
    kind = rng.random(n)
    small = rng.integers(1, 9, n)
    medium = rng.integers(9, 65, n)
    large = rng.integers(65, 513, n)
    huge = rng.integers(513, 4097, n)
    return np.where(kind < 0.4, small, np.where(kind < 0.7, medium, np.where(kind < 0.92, large, huge)))


def jobs(
    rng: np.random.Generator, n: int, first_id: int, submit: np.ndarray, limits: np.ndarray, mem_mb: list[int]
) -> list[JobSpec]:
    tasks = sizes(rng, n)
    mem = rng.choice(mem_mb, n)
    users = rng.integers(0, USERS, n)
    return [
        JobSpec(
            job_id=first_id + i,
            submit_time=float(submit[i]),
            tasks=int(tasks[i]),
            per_task=Resources(cpus=1, mem_mb=int(mem[i])),
            time_limit=float(limits[i]),
            user=f"u{users[i]}",
        )
        for i in range(n)
    ]


def build(n_nodes: int, n_pending: int, seed: int) -> tuple[Scheduler, list[int]]:
    rng = np.random.default_rng(seed)
    table_ = NodeTable.of(Cluster.uniform(n_nodes, Resources(cpus=CORES, mem_mb=MEM)))
    sched = Scheduler(NodeBook(table_), table_.space, Profile(order="multifactor", backfill="easy"), UserEstimate())
    target = 0.99 * n_nodes * CORES
    running: list[JobSpec] = []
    total = 0
    while total < target:
        batch = jobs(rng, 1000, len(running), np.full(1000, START), rng.uniform(2 * 3600, 72 * 3600, 1000), RUN_MEM)
        for j in batch:
            if total + j.procs <= target and j.procs <= n_nodes * CORES // 8:
                running.append(j)
                total += j.procs
    for j in running:
        sched.submit(j, START)
    started = [p.job_id for p in sched.cycle(START).starts]
    for jid in list(sched.queue.items()):  # whatever did not fit is withdrawn: the machine is now full
        sched.cancel(jid.spec.job_id)
    holes = rng.choice(len(started), len(started) // 25, replace=False)  # 4% end: free cores in scattered holes
    for k in sorted(holes, reverse=True):
        sched.finish(started.pop(int(k)), START + 1.0)
    for user in range(USERS):
        sched.ledger.charge(f"u{user}", float(rng.exponential(1e6)), NOW - rng.uniform(0, 7 * 86400))
    submit = np.sort(rng.uniform(1.0, START, n_pending))
    for j in jobs(rng, n_pending, 10_000_000, submit, rng.uniform(3600, 48 * 3600, n_pending), PENDING_MEM):
        sched.submit(j, j.submit_time)
    return sched, started


def measure(n_nodes: int, n_pending: int, seed: int) -> tuple[float, float, int, int, float]:
    sched, started = build(n_nodes, n_pending, seed)
    busy = 1 - sched.book.free_cpus() / (n_nodes * CORES)
    gc.collect()
    t0 = time.process_time()
    bulk = sched.cycle(NOW)
    t_bulk = time.process_time() - t0
    rng = np.random.default_rng(seed + 1)
    for jid in rng.choice(started, max(1, len(started) // 100), replace=False):
        sched.finish(int(jid), NOW + 60.0)
    gc.collect()
    t0 = time.process_time()
    steady = sched.cycle(NOW + 60.0)
    t_steady = time.process_time() - t0
    return t_bulk, t_steady, len(bulk.starts), len(steady.starts), busy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--grid", nargs="*", default=["1000:50000", "10000:50000", "20000:50000", "10000:10000", "10000:100000"]
    )
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"hal from {engine_source()}; multifactor + EASY on a NodeBook; medians of {args.repeats}")
    rows = []
    for cell in args.grid:
        n_nodes, n_pending = (int(x) for x in cell.split(":"))
        runs = [measure(n_nodes, n_pending, seed) for seed in range(args.repeats)]
        bulk, steady = median([r[0] for r in runs]), median([r[1] for r in runs])
        rows.append(
            [
                f"{n_nodes:,}",
                f"{n_pending:,}",
                f"{median([r[4] for r in runs]):.1%}",
                f"{bulk:.3f}",
                f"{median([r[2] for r in runs]):,.0f}",
                f"{steady:.3f}",
                f"{median([r[3] for r in runs]):,.0f}",
            ]
        )
        print(f"  {cell} done", flush=True)
    header = ["nodes", "pending", "busy", "bulk cycle CPU s", "bulk starts", "steady cycle CPU s", "steady starts"]
    print(table(header, rows))


if __name__ == "__main__":
    main()

"""Philly multi-GPU jobs on 8-GPU nodes in NVLink-style blocks of 18 nodes: --segment vs topology-unaware, with the
topology selector alone (no --segment: Slurm's implicit block aggregation) in between.

Jobs of up to 8 GPUs ask for GPUs (they may land on one node or be split); larger jobs ask for
ceil(GPUs/8) whole nodes, and with the topology-aware policy ``--segment=<nodes>`` (Slurm topology/block:
the job's nodes stay inside one block). The trace has no runtime estimates, so the planner uses run times.
The cluster is shrunk (default 4 blocks = 576 GPUs) so that Philly's multi-GPU load contends.

    .venv/bin/python benchmarks/topology_philly.py --blocks 4
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from argtypes import existing_file, positive_int
from hal.engine.nodes import NodeBook
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementSimulation
from hal.sim.swf import TraceError, read_swf
from hal.sim.workload import to_workload

TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "ai" / "swf" / "philly_2017_pollux_jobs.swf"
GPU = 2  # column of gpus in the resource space


def gpu_cluster(blocks: int, per_block: int = 18) -> tuple[Cluster, Topology]:
    n = blocks * per_block
    topo = Topology(("block",), tuple((f"block{i // per_block}",) for i in range(n)))
    base = Cluster.uniform(n, Resources(cpus=64, gpus=8))
    return Cluster(base.nodes, base.partitions, topo), topo


def gpu_jobs(path: Path, segment: bool) -> list[JobSpec]:
    work = to_workload(read_swf(path))
    out = []
    for j in work.jobs:
        gpus = j.procs
        if gpus < 2:
            continue
        nodes = math.ceil(gpus / 8) if gpus > 8 else None
        out.append(
            JobSpec(
                job_id=j.job_id,
                submit_time=j.submit_time,
                tasks=gpus,
                per_task=Resources(cpus=1, gpus=1),
                nodes=nodes,
                segment=nodes if (segment and nodes) else None,
                time_limit=j.runtime,
                user=j.user,
                runtime=j.runtime,
            )
        )
    return out


def run(jobs: list[JobSpec], aware: bool, blocks: int) -> tuple[dict[str, float], float]:
    cluster, topo = gpu_cluster(blocks)
    table = NodeTable.of(cluster)
    selector = TopologySelector(topo)
    book = NodeBook(table, selector=selector if aware else None)
    sim = PlacementSimulation(
        jobs, book, Profile(order="fcfs", backfill="easy"), make_predictor("actual"), selector.index,
        frag_level=0, frag_column=GPU, sample_every=600.0,
    )  # fmt: skip
    t0 = time.perf_counter()
    out = sim.run()
    wall = time.perf_counter() - t0
    s = sim.summary(out, domain_level=1).as_dict()
    small = (out.nodes >= 1) & (out.units <= 8)
    multi = out.units > 8
    stats: dict[str, float] = {
        "jobs": s["jobs"],
        "multi_node_gpu_jobs": int(multi.sum()),
        "in_one_block": float((out.level[multi] <= 1).mean()) if multi.any() else math.nan,
        "small_split": float((out.nodes[small] > 1).mean()) if small.any() else math.nan,  # nan: none to count
        "gpu_fragmentation": s["avg_fragmentation"],
        "avg_wait": s["avg_wait"],
        "avg_bsld": s["avg_bsld"],
        "gpu_utilization": s["useful_utilization"],
        "rejected": len(out.rejected),
    }
    return stats, wall


def cell(value: float) -> str:
    """A table cell: n/a where a share has no jobs to count (nan)."""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trace", type=Path, default=TRACE)
    ap.add_argument("--blocks", type=positive_int, default=4)
    args = ap.parse_args()
    try:  # a missing or unreadable trace: a usage error, not a traceback
        jobs = {seg: gpu_jobs(existing_file(ap, args.trace), seg) for seg in (False, True)}
    except (TraceError, ValueError) as exc:
        ap.error(f"--trace {args.trace}: {exc}")
    if not jobs[False]:  # nothing to place: no figure would mean anything (nan, 1.000 vs 1.000 for 0 jobs)
        raise SystemExit(f"{args.trace}: no multi-GPU jobs (2 or more GPUs); nothing to compare")
    rows = []
    policies = (  # the middle row separates the selector's share from --segment's (QA: the baseline changed both)
        ("topology-unaware first fit", False, False),
        ("topology, no --segment", True, False),
        ("topology, --segment", True, True),
    )
    for label, aware, seg in policies:
        stats, wall = run(jobs[seg], aware, args.blocks)
        rows.append((label, stats, wall))
        print(f"{label}: {wall:.1f} s", file=sys.stderr)
    cols = list(rows[0][1])
    print("| policy | " + " | ".join(cols) + " | wall s |")
    print("|---" * (len(cols) + 2) + "|")
    for label, st, wall in rows:
        vals = " | ".join(cell(st[c]) for c in cols)
        print(f"| {label} | {vals} | {wall:.1f} |")
    base, topo = rows[0][1], rows[-1][1]
    if topo["multi_node_gpu_jobs"] or base["multi_node_gpu_jobs"]:
        print(f"\nmulti-node GPU jobs in one block: {topo['in_one_block']:.3f} vs {base['in_one_block']:.3f}")
    else:
        print("\nno multi-node GPU jobs (more than 8 GPUs): none to keep in one block")
    print(f"GPU fragmentation: {topo['gpu_fragmentation']:.3f} vs {base['gpu_fragmentation']:.3f}")
    ratio = f"{topo['avg_wait'] / base['avg_wait']:.3f}" if base["avg_wait"] > 0 else "n/a (first fit never waited)"
    print(f"avg wait ratio: {ratio}")
    if topo["rejected"] != base["rejected"]:  # the runs then compare different job sets: say so
        print(
            f"note: {topo['rejected']} job(s) rejected with --segment against {base['rejected']} without "
            "(a job whose nodes cannot be cut into whole segments inside blocks), so the two rows cover different jobs"
        )


if __name__ == "__main__":
    main()

"""Fat tree (32 leaf switches x 32 nodes): multi-node jobs of a real trace, topology-aware vs first fit.

SDSC Blue Horizon had 8-way nodes, so a job of P processors needs ceil(P/8) whole nodes; jobs of one node
are left out. Arrivals are compressed so the offered load on 1,024 nodes matches --load (the trace ran on
144 nodes). Each policy runs twice: without the stretch model (placement cannot change timing, so waits
must match) and with it (a job spanning leaves runs longer, killed at its --time if that pushes it past it).

    .venv/bin/python benchmarks/topology_fattree.py --jobs 6000 --skip 20000
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

from argtypes import existing_file, nonneg_float, nonneg_int, positive_float, positive_int
from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import LeafReserver, parse_reserve
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.placement_sim import PlacementSimulation
from hal.sim.stretch import StretchModel
from hal.sim.swf import TraceError, read_swf
from hal.sim.topo_metrics import fewest_leaves
from hal.sim.workload import to_workload

TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "SDSC-BLUE-2000-4.2-cln.swf"


def fat_tree(leaves: int = 32, per_leaf: int = 32) -> tuple[Cluster, Topology]:
    n = leaves * per_leaf
    topo = Topology.tree(n, (leaves, per_leaf), ("spine", "switch"))
    base = Cluster.uniform(n, Resources(cpus=8))
    return Cluster(base.nodes, base.partitions, topo), topo


def multi_node_jobs(path: Path, skip: int, count: int, load: float, n_nodes: int) -> list[JobSpec]:
    work = to_workload(read_swf(path), 1152)
    multi = [j for j in work.jobs if math.ceil(j.procs / 8) > 1]
    jobs = multi[skip : skip + count]
    if not jobs:
        raise SystemExit(f"--skip {skip} --jobs {count}: the trace has {len(multi)} multi-node jobs; nothing to run")
    nodes = [math.ceil(j.procs / 8) for j in jobs]
    t0 = jobs[0].submit_time
    span = max(jobs[-1].submit_time - t0, 1.0)
    offered = sum((j.runtime or 0.0) * k for j, k in zip(jobs, nodes, strict=True)) / (n_nodes * span)
    squeeze = offered / load  # < 1 compresses arrivals
    return [
        JobSpec(
            job_id=j.job_id,
            submit_time=float(round((j.submit_time - t0) * squeeze)),
            tasks=k * 8,
            nodes=k,
            exclusive=True,
            time_limit=j.time_limit,
            request_known=j.request_known,  # a stand-in limit is no --time to kill a stretched run at
            user=j.user,
            runtime=j.runtime,
        )
        for j, k in zip(jobs, nodes, strict=True)
    ]


def run(
    jobs: list[JobSpec],
    topo_aware: bool,
    stretch: StretchModel | None,
    switches_wait: float | None = None,
    align: float = 0.0,
    reserve: dict[str, float] | None = None,
    estimate: str = "user",
) -> tuple[dict[str, float | int], float]:
    cluster, topo = fat_tree()
    table = NodeTable.of(cluster)
    opts = reserve or {}
    wait_cap = 300.0 if switches_wait is None else switches_wait  # the site's max_switch_wait allows the wait
    args = TopologyArgs(align_ends=align, drain_fit=bool(opts.get("drain", 0)), max_switch_wait=wait_cap)
    selector = TopologySelector(topo, args)
    if switches_wait is not None:  # every job asks --switches=<fewest possible>@<wait>
        jobs = [
            dataclasses.replace(j, switches=fewest_leaves(selector.index, j.nodes or 1), switches_wait=switches_wait)
            for j in jobs
        ]
    book = NodeBook(table, selector=selector if topo_aware else None)
    if reserve is not None and "wait" in reserve:  # leaf-aware EASY reservation
        book.reserver = LeafReserver(
            selector,
            reserve["wait"],
            depth=int(reserve.get("depth", 1)),
            strict=reserve.get("strict", 0.0),
            nodes=bool(reserve.get("nodes", 1)),
        )
    sim = PlacementSimulation(
        jobs, book, Profile(order="fcfs", backfill="easy", backfill_order="sjf" if opts.get("sjf") else "queue"),
        make_predictor(estimate), selector.index, stretch,
        tick=60.0 if switches_wait or reserve else 0.0,
    )  # fmt: skip
    t0 = time.perf_counter()
    out = sim.run()
    wall = time.perf_counter() - t0
    return sim.summary(out, domain_level=1).as_dict(), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trace", type=Path, default=TRACE)
    ap.add_argument("--skip", type=nonneg_int, default=20000)
    ap.add_argument("--jobs", type=positive_int, default=6000)
    ap.add_argument("--load", type=positive_float, default=0.85)
    ap.add_argument("--switches-wait", type=positive_float, default=None, help="also run with --switches=fewest@WAIT")
    ap.add_argument("--align-ends", type=nonneg_float, default=0.0, help="also run end-aligned packing with this slack")
    ap.add_argument(
        "--reserve",
        nargs="*",
        default=[],
        help="also run these leaf-aware reservations, each KEY=VALUE[,KEY=VALUE]: wait (s, held for one leaf set "
        "past the moment the head could start anywhere), depth (jobs planned), strict (s: backfill only into the "
        "fewest leaves until waited this long, inf: always), nodes (1: node-specific reservation, 0: EASY's own "
        "check), drain (drain-aware fit)",
    )
    ap.add_argument("--no-stretch", action="store_true", help="skip the runs with the stretch model")
    ap.add_argument("--sjf-baseline", action="store_true", help="also run first fit backfilling shortest first")
    ap.add_argument("--only-reserve", action="store_true", help="run first fit and the reservations only")
    ap.add_argument(
        "--estimate",
        choices=("user", "last2", "gbm"),
        default="user",
        help="runtime predictor the planner uses in every run (baseline included): user requests, Tsafrir's "
        "last two, or the online GBM; a job outliving its prediction is extended to its request",
    )
    args = ap.parse_args()
    if args.align_ends > 0 and args.only_reserve:
        ap.error("--align-ends adds a topology run, which --only-reserve leaves out")
    try:  # a missing or unreadable trace: a usage error, not a traceback
        jobs = multi_node_jobs(existing_file(ap, args.trace), args.skip, args.jobs, args.load, 1024)
    except (TraceError, ValueError) as exc:
        ap.error(f"--trace {args.trace}: {exc}")
    rows = []
    waits: tuple[float | None, ...] = (None,) if args.switches_wait is None else (None, args.switches_wait)
    Variant = tuple[bool, float | None, float, dict[str, float] | None]
    variants: list[Variant] = [(False, None, 0.0, None)]
    if args.sjf_baseline:
        variants.append((False, None, 0.0, {"sjf": 1.0}))
    if not args.only_reserve:
        variants += [(True, w, 0.0, None) for w in waits]
        if args.align_ends > 0:
            variants.append((True, None, args.align_ends, None))
    for spec in args.reserve:
        try:
            variants.append((True, None, 0.0, parse_reserve(spec)))
        except ValueError as exc:
            ap.error(f"--reserve {spec}: {exc}")
    for stretch in (None,) if args.no_stretch else (None, StretchModel()):
        for aware, wait, align, reserve in variants:
            summary, wall = run(jobs, aware, stretch, wait, align, reserve, args.estimate)
            label = ("topology" if aware else "first fit") + (f" --switches@{wait:.0f}" if wait else "")
            label += f" end-aligned {align:g}" if align else ""
            label += " " + ",".join(f"{k}={v:g}" for k, v in reserve.items()) if reserve else ""
            label += " + stretch" if stretch else ""
            rows.append((label, summary, wall))
            print(f"{label}: {wall:.1f} s", file=sys.stderr)
    cols: tuple[str, ...] = (
        "fewest_leaf_share",
        "avg_leaves",
        "avg_wait",
        "avg_bsld",
        "useful_utilization",
        "makespan",
    )
    cols += ("avg_fragmentation", "killed_by_stretch")  # killed: TIMEOUT at --time, work not in useful_utilization
    print(f"planner estimate: {args.estimate}")
    print("| policy | " + " | ".join(cols) + " | wait ratio | wall s |")
    print("|---" * (len(cols) + 3) + "|")
    per = len(variants)
    for k, (label, s, wall) in enumerate(rows):
        vals = " | ".join(f"{s[c]:.4g}" if isinstance(s[c], float) else str(s[c]) for c in cols)
        base_wait = float(rows[k - k % per][1]["avg_wait"])
        ratio = f"{s['avg_wait'] / base_wait:.3f}" if base_wait > 0 else "n/a"  # first fit never waited
        print(f"| {label} | {vals} | {ratio} | {wall:.1f} |")
    if args.no_stretch or args.only_reserve:
        return  # the summary below compares first fit and default topology with and without stretch
    half = len(rows) // 2
    k = [label for label, _, _ in rows].index("topology")
    base, topo = rows[0][1], rows[k][1]
    sb, st = rows[half][1], rows[half + k][1]
    print(f"\nmulti-node jobs: {base['multi_node']}")
    print(f"fewest-leaf share: topology {topo['fewest_leaf_share']:.3f} vs first fit {base['fewest_leaf_share']:.3f}")
    print(f"avg wait ratio topology/first fit (no stretch): {_ratio(topo['avg_wait'], base['avg_wait'])}")
    bsld, util, wait = (_ratio(st[k], sb[k]) for k in ("avg_bsld", "useful_utilization", "avg_wait"))
    print(f"with stretch: bsld ratio {bsld}, utilization ratio {util}, wait ratio {wait}")
    killed = f"topology {st['killed_by_stretch']}, first fit {sb['killed_by_stretch']}"
    print(f"killed by stretch (TIMEOUT at --time): {killed}")


def _ratio(value: float, base: float) -> str:
    """value/base, or n/a where the baseline is 0 (a short run where first fit never waited)."""
    return f"{value / base:.4f}" if base > 0 else "n/a"


if __name__ == "__main__":
    main()

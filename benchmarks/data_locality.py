"""Data-aware vs data-unaware placement on a two-site cluster (on-premises racks + a cloud region).

A generated data-heavy workload (Zipf-popular datasets of 1 MB to 1 TB; each job reads one to three) runs
on 4 on-prem racks and 2 cloud racks of 16 nodes. Every job stages its inputs into its nodes' caches (LRU,
--cache-tb each) from the cheapest replica: another node's cache, the site file system or the cloud bucket
(egress priced per GB when bytes leave the cloud). Stage-in time holds the nodes, so it shows in waits.
Policies: "data-unaware" (the topology selector without a data term: the baseline), "first fit (data-unaware)"
(no selector, lowest node index first: a second baseline), "data-aware" (the placement score's data term),
"data-aware + delay" (plain delay scheduling) and "data-aware + gated delay" (engine/plugins/data_delay.py).

    .venv/bin/python benchmarks/data_locality.py --jobs 4000 --seeds 7,8,9
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time

import numpy as np

from argtypes import nonneg_float, positive_float, positive_int, seed_list
from hal.engine.nodes import NodeBook, Selector
from hal.engine.plugins.data_delay import DataDelay, DelayPolicy
from hal.engine.plugins.locality import Locality, TransferModel, busy_of
from hal.engine.plugins.score import PlacementWeights
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.data_sim import DataShape, SimStaging, generate
from hal.sim.placement_sim import PlacementSimulation

MODEL = TransferModel(
    bandwidth=(float("inf"), 2.5e9, 1.25e9, 5e8),  # node, rack, site, between sites (WAN)
    latency=(0.0, 1e-4, 1e-3, 0.03),
    egress_per_gb={"cloud": 0.09},
)


def two_sites(racks: tuple[int, int] = (4, 2), per_rack: int = 16) -> tuple[Cluster, Topology]:
    paths = []
    for site, count in zip(("onprem", "cloud"), racks, strict=True):
        for r in range(count):
            paths.extend([(site, f"{site}-r{r}")] * per_rack)
    topo = Topology(("site", "rack"), tuple(paths))
    base = Cluster.uniform(len(paths), Resources(cpus=32))
    return Cluster(base.nodes, base.partitions, topo), topo


def run(
    shape: DataShape,
    policy: str,
    cache_tb: float,
    delay: float,
    weights: PlacementWeights | None = None,
    storage_tb: tuple[float, float] = (0.0, 0.0),
    model: TransferModel = MODEL,
    gb_secs: float = 0.0,
) -> tuple[dict[str, float], float]:
    work = generate(shape)
    cluster, topo = two_sites()
    table = NodeTable.of(cluster)
    args = TopologyArgs(
        data_delay=delay if policy == "data-aware + delay" else 0.0, weights=weights or PlacementWeights()
    )
    selector = TopologySelector(topo, args)
    locality = Locality(selector.index, model)
    for name, size in work.sizes.items():
        locality.dataset(name, size)
        locality.add_storage_replica(name, "site", work.homes[name])
    if policy != "data-unaware":
        selector.data = locality
    chosen: Selector = selector
    if policy == "data-aware + gated delay":
        chosen = DataDelay(selector, locality, DelayPolicy(delay, level=model.local_level, wide_gb_seconds=gb_secs))
    staging = SimStaging(locality, cache_tb * 1e12, storage_tb[0] * 1e12, storage_tb[1] * 1e12)
    book = NodeBook(table, selector=None if policy == "first fit (data-unaware)" else chosen)
    sim = PlacementSimulation(
        work.jobs, book, Profile(order="fcfs", backfill="easy"), make_predictor("user"), selector.index,
        on_start=staging, frag_level=0, frag_column=0, tick=60.0 if "delay" in policy else 0.0,
    )  # fmt: skip
    locality.running = busy_of(lambda: sim.sched.running.values())  # as the live server's (data/bridge.py)
    t0 = time.perf_counter()
    out = sim.run()
    wall = time.perf_counter() - t0
    s = sim.summary(out, domain_level=1)
    start_s = s.avg_wait + staging.stage_seconds / max(1, s.jobs)  # submit -> the job's work begins
    waited = out.start - out.submit
    waits = {"avg_wait": s.avg_wait, "avg_to_work": start_s, "avg_bsld": s.avg_bsld, "jobs": s.jobs}
    waits |= {"jobs_waiting": float((waited > 0).sum()), "wait_total_s": float(waited.sum())}
    return {**staging.report(), **waits}, wall


KEYS = ("bytes_moved_TB", "wide_TB", "wan_TB", "egress_dollars")


def change(cut: float, fmt: str = "+.1%") -> str:
    """A change against the baseline (minus the cut), or n/a when the baseline was 0."""
    return "n/a (baseline 0)" if math.isnan(cut) else format(0.0 - cut, fmt)  # 0.0 - 0.0 is +0.0, not -0.0


def dollars(diff: float) -> str:
    """An egress difference in dollars, signed: beside the change, it says what a rise from a $0 baseline cost,
    where the change is n/a (QA: "n/a (baseline 0)" alone), as the wait difference beside the wait ratio does."""
    return f"{'-' if diff < 0 else '+'}${abs(diff):.2f}"


def median(values: list[float]) -> float:
    """The median of the seeds that have a value (nan where every baseline was 0 or never waited)."""
    known = [v for v in values if not math.isnan(v)]
    return float(np.median(known)) if known else math.nan


POLICIES = ("data-unaware", "first fit (data-unaware)", "data-aware", "data-aware + delay", "data-aware + gated delay")


def report(rows: list[tuple[str, dict[str, float], float]]) -> dict[str, dict[str, float]]:
    """Print one seed's table and cuts; return the cuts (and wait ratio/difference) per policy."""
    cols = list(rows[0][1])
    print("| policy | " + " | ".join(cols) + " | wall s |")
    print("|---" * (len(cols) + 2) + "|")
    for label, st, wall in rows:
        print(f"| {label} | " + " | ".join(f"{st[c]:.4g}" for c in cols) + f" | {wall:.1f} |")
    base = rows[0][1]
    out = {}
    for label, st, _ in rows[1:]:
        # no cut against a baseline of 0 (both $0 printed as a -100% cut): n/a
        cut = {k: 1 - st[k] / base[k] if base[k] > 0 else math.nan for k in KEYS}
        # no ratio against a baseline that never waits (it was printed as billions): the difference says it
        cut["egress_diff"] = st["egress_dollars"] - base["egress_dollars"]
        cut["wait_ratio"] = st["avg_wait"] / base["avg_wait"] if base["avg_wait"] > 0 else math.nan
        cut["wait_diff_s"] = st["avg_wait"] - base["avg_wait"]
        cut["to_work_ratio"] = st["avg_to_work"] / max(base["avg_to_work"], 1e-9)
        out[label] = cut
        ratio = "n/a (the baseline never waits)" if math.isnan(cut["wait_ratio"]) else f"{cut['wait_ratio']:.3f}"
        print(
            f"{label}: bytes moved {change(cut['bytes_moved_TB'])} (across racks {change(cut['wide_TB'])}, "
            f"between sites {change(cut['wan_TB'])}), egress {change(cut['egress_dollars'])} "
            f"({dollars(cut['egress_diff'])}), "
            f"avg wait ratio {ratio} ({cut['wait_diff_s']:+.2f} s)"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=positive_int, default=4000)
    ap.add_argument("--load", type=positive_float, default=0.7)
    ap.add_argument("--cache-tb", type=positive_float, default=1.0)
    ap.add_argument("--delay", type=nonneg_float, default=600.0)
    ap.add_argument(
        "--seeds", type=seed_list, default=[7], help="comma-separated workload seeds; medians of the cuts are printed"
    )
    ap.add_argument("--rack-tb", type=nonneg_float, default=0.0, help="rack storage per rack (0: none)")
    ap.add_argument("--site-tb", type=nonneg_float, default=0.0, help="site storage for copies from the other site")
    ap.add_argument("--value-scale", type=positive_float, default=MODEL.value_scale, help="data cost halfway point, s")
    ap.add_argument(
        "--local-level", type=int, choices=(0, 1), default=0, help="data-local for delay scheduling: 0 node, 1 rack"
    )
    ap.add_argument("--policies", default="data-unaware,data-aware,data-aware + delay,data-aware + gated delay")
    ap.add_argument(
        "--wide-gb-seconds", type=nonneg_float, default=0.0, help="gated delay: a GB off the network is worth, s"
    )
    ap.add_argument("--data-weight", type=nonneg_float, default=PlacementWeights().data)
    ap.add_argument("--frag-weight", type=nonneg_float, default=PlacementWeights().fragmentation)
    args = ap.parse_args()
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        ap.error(f"--policies: unknown {unknown}; choose from {', '.join(POLICIES)} (the first is the baseline)")
    weights = PlacementWeights(data=args.data_weight, fragmentation=args.frag_weight)
    model = dataclasses.replace(MODEL, value_scale=args.value_scale, local_level=args.local_level)
    cuts: dict[str, list[dict[str, float]]] = {}
    for seed in args.seeds:
        shape = DataShape(jobs=args.jobs, load=args.load, seed=seed)
        rows = []
        for policy in policies:
            storage = (args.rack_tb, args.site_tb)
            stats, wall = run(shape, policy, args.cache_tb, args.delay, weights, storage, model, args.wide_gb_seconds)
            rows.append((policy, stats, wall))
            print(f"seed {seed} {policy}: {wall:.1f} s", file=sys.stderr)
        print(f"seed {seed}")
        for label, cut in report(rows).items():
            cuts.setdefault(label, []).append(cut)
    if not cuts:
        print(f"no comparison: the run has one policy ({policies[0]}), so no baseline (the first of --policies is one)")
        return
    print(
        "| policy | median change: all bytes | across racks | between sites | egress $ | egress diff | wait ratio "
        "| wait diff s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, per_seed in cuts.items():
        med = {k: median([c[k] for c in per_seed]) for k in per_seed[0]}
        ratio = "n/a" if math.isnan(med["wait_ratio"]) else f"{med['wait_ratio']:.2f}"
        print(
            f"| {label} | " + " | ".join(change(med[k], ".1%") for k in KEYS) + f" | {dollars(med['egress_diff'])} | "
            f"{ratio} | {med['wait_diff_s']:+.2f} |"
        )


if __name__ == "__main__":
    main()

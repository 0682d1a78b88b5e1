"""Whole traces through the general engine (Simulation): seconds, jobs/s and the ratio to the minimal simulator.

    python benchmarks/engine_speed.py                    # SDSC-SP2, CTC-SP2, HPC2N under EASY; policies on SDSC-SP2
    python benchmarks/engine_speed.py --repeats 5 --only traces
    PYTHONPATH=/path/to/old/src python benchmarks/engine_speed.py   # measure another checkout the same way

Each repeat runs the minimal EASY simulator (benchmarks/minimal_easy.py, the speed ceiling) on the same
cleaned jobs right before HAL, so the ratio is measured under the same machine load. Figures are medians
of the process's CPU time (the machine is shared; wall time is shown too).
"""

from __future__ import annotations

import argparse
import time

from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, load, machine
from hal.sim.simulator import Simulation
from hal.sim.swf import SwfTrace
from hal.sim.workload import Workload
from speedlib import TRACES, engine_source, median, minimal_rows, rate, table, time_minimal, timed, trace_path

POLICIES: tuple[tuple[str, str], ...] = (
    ("easy:fcfs", "user"),
    ("conservative:fcfs", "user"),
    ("easy:multifactor", "user"),
    ("easy:wfp3", "user"),
    ("easy:fcfs", "last2"),
)


def options(name: str, policy: str, estimate: str) -> SimOptions:
    return SimOptions(Profile.parse(policy), estimate=estimate, procs=TRACES[name][1])


def simulate(trace: SwfTrace, workload: Workload, opts: SimOptions) -> tuple[float, float]:
    """(CPU s, wall s) of Simulation.run on a loaded workload, exactly as ``hal.sim.runner`` builds it."""
    book, space, _ = machine(workload, opts)
    sim = Simulation(workload.jobs, book, space, opts.profile, make_predictor(opts.estimate))
    return timed(sim.run)


def bench_traces(names: list[str], repeats: int) -> str:
    rows = []
    for name in names:
        opts = options(name, "easy:fcfs", "user")
        path = trace_path(name)
        parse, sim, wall, minimal, ratio = [], [], [], [], []
        records = jobs = 0
        for _ in range(repeats):
            c0 = time.process_time()
            trace, workload = load(path, opts)
            parse.append(time.process_time() - c0)
            records, jobs = len(trace.records), len(workload.jobs)
            m = time_minimal(workload.capacity, minimal_rows(workload.jobs))[0]
            s, w = simulate(trace, workload, opts)
            minimal.append(m)
            sim.append(s)
            wall.append(w)
            ratio.append(s / m)
        s, p, m = median(sim), median(parse), median(minimal)
        rows.append(
            [
                name,
                f"{records:,}",
                f"{jobs:,}",
                f"{s:.2f}",
                rate(jobs, s),
                f"{median(wall):.2f}",
                f"{p + s:.2f}",
                rate(jobs, p + s),
                f"{m:.2f}",
                rate(jobs, m),
                f"{median(ratio):.2f}x",
            ]
        )
    header = [
        "trace",
        "records",
        "jobs simulated",
        "HAL sim CPU s",
        "HAL jobs/s",
        "(wall s)",
        "HAL parse+sim CPU s",
        "parse+sim jobs/s",
        "minimal CPU s",
        "minimal jobs/s",
        "HAL / minimal (CPU time)",
    ]
    return table(header, rows)


def bench_policies(name: str, repeats: int, policies: tuple[tuple[str, str], ...] = POLICIES) -> str:
    trace, workload = load(trace_path(name), options(name, "easy:fcfs", "user"))
    jobs = len(workload.jobs)
    rows_min = minimal_rows(workload.jobs)
    cpu: dict[tuple[str, str], list[float]] = {p: [] for p in policies}
    wall: dict[tuple[str, str], list[float]] = {p: [] for p in policies}
    ratio_base: dict[tuple[str, str], list[float]] = {p: [] for p in policies}
    ratio_min: dict[tuple[str, str], list[float]] = {p: [] for p in policies}
    for _ in range(repeats):
        m = time_minimal(workload.capacity, rows_min)[0]
        base = 0.0
        for key in policies:
            s, w = simulate(trace, workload, options(name, *key))
            base = base or s
            cpu[key].append(s)
            wall[key].append(w)
            ratio_base[key].append(s / base)
            ratio_min[key].append(s / m)
    rows = []
    for key in policies:
        s = median(cpu[key])
        rows.append(
            [
                f"{name} {key[0]}",
                key[1],
                f"{s:.2f}",
                rate(jobs, s),
                f"{median(wall[key]):.2f}",
                f"{median(ratio_base[key]):.2f}x",
                f"{median(ratio_min[key]):.2f}x",
            ]
        )
    header = [
        "policy",
        "estimate",
        "HAL sim CPU s",
        "jobs/s",
        "(wall s)",
        "time / easy:fcfs user",
        "time / minimal EASY",
    ]
    return table(header, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--traces", nargs="*", default=list(TRACES), choices=list(TRACES))
    ap.add_argument("--only", choices=("traces", "policies"), default=None)
    ap.add_argument("--policy-trace", default="SDSC-SP2", choices=list(TRACES))
    ap.add_argument(
        "--policies", nargs="*", default=None, help="POLICY/ESTIMATE, e.g. easy:fcfs/user (the first is the base)"
    )
    args = ap.parse_args()
    print(f"hal from {engine_source()}; medians of {args.repeats} runs\n")
    if args.only in (None, "traces"):
        print(bench_traces(args.traces, args.repeats), "\n", flush=True)
    if args.only in (None, "policies"):
        chosen = tuple(tuple(p.split("/")) for p in args.policies) if args.policies else POLICIES
        print(bench_policies(args.policy_trace, args.repeats, chosen), flush=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

"""Cost per job from 10k to 1M jobs: a real trace repeated back to back in time, built on the fly (never saved).

    python benchmarks/scaling.py                       # HPC2N repeated, 10k / 100k / 1M jobs, EASY fcfs
    python benchmarks/scaling.py --trace SDSC-SP2 --sizes 10000 100000 1000000

Copy k of the trace is shifted by k x (the trace's submit span + one day) and its job ids by k x (largest
id + 1), so the copies keep the trace's own load and the simulated queue never grows without bound. Each
size is a prefix of the repeated trace. The minimal simulator runs on the same prefix in the same repeat.
Times are CPU seconds of the process (medians).
"""

from __future__ import annotations

import argparse
import dataclasses

from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.runner import SimOptions, load
from hal.sim.simulator import Simulation, pool_for
from speedlib import TRACES, engine_source, median, minimal_rows, rate, table, time_minimal, timed, trace_path

DAY = 86400.0


def repeated(jobs: list[JobSpec], count: int) -> list[JobSpec]:
    """The first ``count`` jobs of the trace repeated back to back in time."""
    first = min(j.submit_time for j in jobs)
    span = max(j.submit_time for j in jobs) - first + DAY
    id_step = max(j.job_id for j in jobs) + 1
    out: list[JobSpec] = []
    k = 0
    while len(out) < count:
        shift = k * span
        ids = k * id_step
        for j in jobs[: count - len(out)]:
            out.append(dataclasses.replace(j, job_id=j.job_id + ids, submit_time=j.submit_time + shift))
        k += 1
    return out


def run_hal(jobs: list[JobSpec], capacity: int, profile: Profile, estimate: str) -> float:
    """CPU seconds of Simulation.run (the machine is shared: wall time also counts other processes)."""
    book, space = pool_for(capacity)
    sim = Simulation(jobs, book, space, profile, make_predictor(estimate))
    return timed(sim.run)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default="HPC2N", choices=list(TRACES))
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--policy", default="easy:fcfs")
    ap.add_argument("--estimate", default="user")
    args = ap.parse_args()
    opts = SimOptions(Profile.parse(args.policy), estimate=args.estimate, procs=TRACES[args.trace][1])
    _, workload = load(trace_path(args.trace), opts)
    print(
        f"hal from {engine_source()}; {args.trace} repeated, {args.policy} {args.estimate}; medians of {args.repeats}"
    )
    rows = []
    base_us = base_ratio = 0.0
    for size in args.sizes:
        jobs = repeated(workload.jobs, size)
        mrows = minimal_rows(jobs)
        hal_s, min_s, ratio = [], [], []
        for _ in range(args.repeats):
            m = time_minimal(workload.capacity, mrows)[0]
            s = run_hal(jobs, workload.capacity, opts.profile, args.estimate)
            hal_s.append(s)
            min_s.append(m)
            ratio.append(s / m)
        s, m, r = median(hal_s), median(min_s), median(ratio)
        us = s / size * 1e6
        if not base_us:
            base_us, base_ratio = us, r
        rows.append(
            [
                f"{size:,}",
                f"{s:.2f}",
                rate(size, s),
                f"{us:.1f}",
                f"{us / base_us:.2f}x",
                f"{m:.2f}",
                rate(size, m),
                f"{r:.2f}x",
                f"{r / base_ratio:.2f}x",
            ]
        )
        print(f"  {size:,} jobs done", flush=True)
        del jobs, mrows
    header = [
        "jobs",
        "HAL CPU s",
        "HAL jobs/s",
        "HAL us/job",
        "us/job vs smallest",
        "minimal CPU s",
        "minimal jobs/s",
        "HAL / minimal",
        "(HAL / minimal) vs smallest",
    ]
    print(table(header, rows))


if __name__ == "__main__":
    main()

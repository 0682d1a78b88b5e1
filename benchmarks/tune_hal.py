"""`hal tune` on HAL's own simulator: weights fitted on an earlier slice, tested on the next, disjoint slice.

Usage: python benchmarks/tune_hal.py [--budget N] [--families static,dynamic]
Each row is `hal tune TRACE --train A:N --test B:N --estimate last2 --backfill-order sjf --budget BUDGET --family F`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hal.learn.tune import FAMILIES, args_text, order_bsld, search, sim_objective
from hal.sim.runner import SimOptions, load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, TRACES, write_section

SLICES = {"KTH-SP2": (0, 5000, 5000), "SDSC-SP2": (10000, 5000, 15000), "CTC-SP2": (10000, 5000, 15000)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--families", default="static,dynamic")
    a = ap.parse_args()
    lines = [
        "## `hal tune` on HAL's simulator (EASY-SJBF, last2 predictions)",
        "",
        f"Command: `python benchmarks/tune_hal.py --budget {a.budget} --families {a.families}`; per row "
        f"`hal tune TRACE --train A:N --test B:N --estimate last2 --budget {a.budget} --family F`. Avg bsld. "
        "static: runtime, request, size, area, submit age; dynamic: adds log-area, wait and a starvation guard.",
        "",
        "| trace | family | train | test | tuned (train) | tuned (test) | fcfs (test) | sjf (test) | f1 (test) "
        "| weights | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, (t0, n, s0) in SLICES.items():
        _, wl = load(TRACES / HPC_TRACES[label], SimOptions())
        train, test = wl.jobs[t0 : t0 + n], wl.jobs[s0 : s0 + n]
        fixed = [order_bsld(test, wl.capacity, "last2", "sjf", o) for o in ("fcfs", "sjf", "f1")]
        for family in a.families.split(","):
            began = time.perf_counter()
            res = search(sim_objective(train, wl.capacity, "last2", "sjf"), a.budget, 1, FAMILIES[family])
            tuned = sim_objective(test, wl.capacity, "last2", "sjf")(res.best)
            lines.append(
                f"| {label} | {family} | {t0}:{n} | {s0}:{n} | {res.value:.2f} | {tuned:.2f} | "
                + " | ".join(f"{v:.2f}" for v in fixed)
                + f" | {args_text(res.best)} | {time.perf_counter() - began:.0f} |"
            )
            print(lines[-1], flush=True)
            write_section("tune_hal", "\n".join(lines))


if __name__ == "__main__":
    main()

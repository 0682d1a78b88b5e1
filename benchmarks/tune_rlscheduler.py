"""The tuned priority under RLScheduler's setup, trained only on windows that share no job with the test
windows, against RLScheduler's published RL column with backfilling (issue 3).

Usage: python benchmarks/tune_rlscheduler.py [--budget N] [--windows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hal.learn.tune import DIMS_REQUEST_ONLY, args_text, outside_starts, rl_key, rl_objective_windows, search
from hal.sim.rlscheduler import PUBLISHED_STARTS, RlSetup, load_jobs, run_setup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import TRACES, write_section

# Zhang et al., SC20, with backfilling: best heuristic and the learned (RL) policy, average bsld.
PUBLISHED = {
    "Lublin-1": ("lublin_256.swf", 73.31, 58.64),
    "SDSC-SP2": ("SDSC-SP2-1998-4.2-cln.swf", 548.01, 397.82),
    "HPC2N": ("HPC2N-2002-2.2-cln.swf", 71.95, 86.14),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--windows", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    lines = [
        "## Tuned priority under RLScheduler's setup (with backfilling)",
        "",
        f"Command: `python benchmarks/tune_rlscheduler.py --budget {a.budget} --windows {a.windows} --seed {a.seed}`.",
        f"Training: {a.windows} windows of up to 1,024 jobs drawn (seed {a.seed}) from the parts of each trace "
        "outside the ten test windows (a window is kept whole inside one gap, at least 512 jobs); search budget "
        f"{a.budget} evaluations. Test: the ten published windows (seed 1). The key uses only what RLScheduler's "
        "agent sees: requested time (the setup has no predictions), processors and submit time.",
        "",
        "| trace | best heuristic (published) | RL (published) | tuned, train windows | tuned, test windows "
        "| beats RL | weights | search s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, (file, heuristic, rl) in PUBLISHED.items():
        loaded = load_jobs(TRACES / file)
        train = outside_starts(len(loaded.jobs), PUBLISHED_STARTS, 1024, a.windows, seed=a.seed)
        began = time.perf_counter()
        res = search(rl_objective_windows(loaded, train, True), a.budget, 1, DIMS_REQUEST_ONLY)
        took = time.perf_counter() - began
        test = run_setup(loaded, RlSetup(policy="custom", backfill=True, key=rl_key(res.best))).mean
        lines.append(
            f"| {label} | {heuristic:.2f} | {rl:.2f} | {res.value:.2f} | {test:.2f} | "
            f"{'yes' if test < rl else 'no'} | {args_text(res.best)} | {took:.0f} |"
        )
        print(lines[-1], flush=True)
    write_section("tune_rlscheduler", "\n".join(lines))


if __name__ == "__main__":
    main()

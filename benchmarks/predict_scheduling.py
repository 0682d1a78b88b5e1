"""Scheduling with predicted runtimes on whole traces: EASY-SJBF with gbm against EASY with user estimates
and clairvoyant EASY-SJBF, and what the predictions cost in simulation time (issue 3).

Usage: python benchmarks/predict_scheduling.py [TRACE_NAME ...]   (default: the five traces)
Each row is one `hal simulate` configuration, e.g.
  hal simulate TRACE --backfill-order sjf --estimate gbm
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, load, run_workload

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, TRACES, write_section

CONFIGS = (  # label, backfill order, estimate
    ("EASY, user estimates", "queue", "user"),
    ("EASY-SJBF, clairvoyant", "sjf", "actual"),
    ("EASY-SJBF, last2", "sjf", "last2"),
    ("EASY, gbm", "queue", "gbm"),
    ("EASY-SJBF, gbm", "sjf", "gbm"),
)


def main(names: list[str]) -> None:
    chosen = {n: HPC_TRACES[n] for n in names} if names else HPC_TRACES
    lines = [
        "## Scheduling with predictions (whole traces, EASY backfilling, FCFS queue)",
        "",
        "Command: `python benchmarks/predict_scheduling.py`; each cell is "
        "`hal simulate TRACE [--backfill-order sjf] --estimate user|actual|last2|gbm`.",
        "Targets for gbm + EASY-SJBF: avg bsld <= 0.70 x EASY with user estimates, and <= 1.25 x clairvoyant "
        "EASY-SJBF. Cost: simulation wall time with gbm / with user estimates (target <= 3), measured in the "
        "same run, on a machine shared with other engineers' jobs.",
        "",
        "| trace | " + " | ".join(c[0] for c in CONFIGS) + " | <= 0.7 x EASY | <= 1.25 x clairvoyant | wall s user "
        "| wall s gbm | cost ratio |",
        "|---|" + "---|" * (len(CONFIGS) + 5),
    ]
    for label, file in chosen.items():
        swf, workload = load(TRACES / file, SimOptions())
        bsld: dict[str, float] = {}
        wall: dict[str, float] = {}
        for name, order, est in CONFIGS:
            began = time.perf_counter()
            res = run_workload(swf, workload, SimOptions(Profile(backfill_order=order), estimate=est))
            bsld[name], wall[name] = res.summary.avg_bsld, res.outcome.wall_seconds
            print(f"{label} {name}: bsld {bsld[name]:.2f}, {time.perf_counter() - began:.1f} s", flush=True)
        easy, clair, gbm = bsld[CONFIGS[0][0]], bsld[CONFIGS[1][0]], bsld[CONFIGS[4][0]]
        w_user, w_gbm = wall[CONFIGS[0][0]], wall[CONFIGS[4][0]]
        cells = " | ".join(f"{bsld[c[0]]:.2f}" for c in CONFIGS)
        lines.append(
            f"| {label} | {cells} | {'yes' if gbm <= 0.7 * easy else 'no'} ({gbm / easy:.2f}) "
            f"| {'yes' if gbm <= 1.25 * clair else 'no'} ({gbm / clair:.2f}) | {w_user:.1f} | {w_gbm:.1f} "
            f"| {w_gbm / w_user:.1f} |"
        )
        print(lines[-1], flush=True)
        write_section("predict_scheduling", "\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])

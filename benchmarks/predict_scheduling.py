"""Scheduling with predicted runtimes on whole traces: EASY-SJBF with gbm against EASY with user estimates
and clairvoyant EASY-SJBF, and what the predictions cost in simulation time (issue 3).

Each run is also scored on the second half of the trace's jobs alone: the predictor choices of
benchmarks/predict_alpha_sweep.py looked only at first halves, so those figures are held out.
Usage: python benchmarks/predict_scheduling.py [TRACE_NAME ...]   (default: the five traces)
Each row is one `hal simulate` configuration, e.g.
  hal simulate TRACE --backfill-order sjf --estimate gbm
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hal.engine.profile import Profile
from hal.sim.metrics import bounded_slowdown
from hal.sim.runner import SimOptions, load, run_workload
from hal.sim.simulator import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, TRACES, previous_rows, write_section

CONFIGS = (  # label, backfill order, estimate
    ("EASY, user estimates", "queue", "user"),
    ("EASY-SJBF, clairvoyant", "sjf", "actual"),
    ("EASY-SJBF, last2", "sjf", "last2"),
    ("EASY-SJBF, gbm", "sjf", "gbm"),
    ("EASY-SJBF, gbm-regress", "sjf", "gbm-regress"),
)
LEARNED = ("gbm", "gbm-regress")


HALF_HEAD = [
    "",
    "Held out: the same runs scored on the second half of each trace's jobs only (jobs after the midpoint in job "
    "order). The choices in the next section looked only at simulations of first halves; gbm-regress's quantile "
    "itself was first chosen on whole SDSC-SP2, KTH-SP2 and CTC-SP2, so for it only HPC2N and SDSC-BLUE are fully "
    "held out.",
    "",
    "| trace (second half) | " + " | ".join(c[0] for c in CONFIGS) + " | gbm target | gbm-regress target |",
    "|---|" + "---|" * (len(CONFIGS) + 2),
]


def second_half(out: Outcome) -> float:
    """Average bsld of the jobs after the midpoint (job order), as scheduled in the whole-trace run."""
    b = bounded_slowdown(out.start - out.submit, out.run)
    done = out.done
    half = len(b) // 2
    return float(b[half:][done[half:]].mean())


def split_rows(rows: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Rows already written, by trace: the whole-trace table's and the second-half table's."""
    whole: dict[str, str] = {}
    held: dict[str, str] = {}
    for line in rows.values():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in HPC_TRACES:
            # The second-half table has two fewer columns (no wall time and costs).
            (whole if len(cells) == len(CONFIGS) + 6 else held)[cells[0]] = line
    return whole, held


def verdict(value: float, easy: float, clair: float) -> str:
    ok = value <= 0.7 * easy and value <= 1.25 * clair
    return f"{'yes' if ok else 'no'} ({value / easy:.2f}, {value / clair:.2f})"


def main(names: list[str]) -> None:
    chosen = {n: HPC_TRACES[n] for n in names} if names else HPC_TRACES
    lines = [
        "## Scheduling with predictions (whole traces, EASY backfilling, FCFS queue)",
        "",
        "Command: `python benchmarks/predict_scheduling.py`; each cell is "
        "`hal simulate TRACE [--backfill-order sjf] --estimate user|actual|last2|gbm|gbm-regress`.",
        "Targets for a learned predictor + EASY-SJBF: avg bsld <= 0.70 x EASY with user estimates and <= 1.25 x "
        "clairvoyant EASY-SJBF (both ratios in brackets). Cost: simulation wall time with the predictor / with "
        "user estimates (target <= 3), same run, on a machine shared with other engineers' jobs.",
        "",
        "| trace | " + " | ".join(c[0] for c in CONFIGS) + " | gbm target | gbm-regress target | wall s user "
        "| cost gbm | cost gbm-regress |",
        "|---|" + "---|" * (len(CONFIGS) + 5),
    ]
    rows: dict[str, str] = {}
    halves: dict[str, str] = {}
    for label, file in chosen.items():
        swf, workload = load(TRACES / file, SimOptions())
        bsld: dict[str, float] = {}
        late: dict[str, float] = {}
        wall: dict[str, float] = {}
        for name, order, est in CONFIGS:
            began = time.perf_counter()
            res = run_workload(swf, workload, SimOptions(Profile(backfill_order=order), estimate=est))
            bsld[est], wall[est] = res.summary.avg_bsld, res.outcome.wall_seconds
            late[est] = second_half(res.outcome)
            print(f"{label} {name}: bsld {bsld[est]:.2f}, {time.perf_counter() - began:.1f} s", flush=True)
        easy, clair = bsld["user"], bsld["actual"]
        cells = " | ".join(f"{bsld[c[2]]:.2f}" for c in CONFIGS)
        checks = " | ".join(verdict(bsld[k], easy, clair) for k in LEARNED)
        costs = " | ".join(f"{wall[k] / wall['user']:.1f}" for k in LEARNED)
        rows[label] = f"| {label} | {cells} | {checks} | {wall['user']:.1f} | {costs} |"
        halves[label] = (
            f"| {label} | "
            + " | ".join(f"{late[c[2]]:.2f}" for c in CONFIGS)
            + " | "
            + " | ".join(verdict(late[k], late["user"], late["actual"]) for k in LEARNED)
            + " |"
        )
        print(rows[label], halves[label], sep="\n", flush=True)
        # Rows of other traces as they are in the file now (another process may be running them).
        old_rows, old_halves = split_rows(previous_rows("predict_scheduling", key_cells=2))
        whole, late_rows = {**old_rows, **rows}, {**old_halves, **halves}
        ordered = [whole[t] for t in HPC_TRACES if t in whole]
        held = [late_rows[t] for t in HPC_TRACES if t in late_rows]
        write_section("predict_scheduling", "\n".join(lines + ordered + HALF_HEAD + held))


if __name__ == "__main__":
    main(sys.argv[1:])

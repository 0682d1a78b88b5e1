"""Start-time estimates for pending jobs, scored against the start that happened (issue 3).

At about N evenly spaced submissions of a whole-trace replay (EASY-SJBF planning on gbm predictions), the
new job's start is forecast from a copy of the scheduler: p50 on point predictions, p90 on upper ones,
and on requested times as Slurm's `squeue --start` does. Jobs that start at once are not scored.
Usage: python benchmarks/forecast_accuracy.py [--samples N] [TRACE_NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hal.engine.predict.basic import UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.profile import Profile
from hal.learn.forecast_eval import replay_with_forecasts
from hal.sim.runner import SimOptions, load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, TRACES, previous_rows, write_section


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("traces", nargs="*")
    a = ap.parse_args()
    chosen = {n: HPC_TRACES[n] for n in a.traces} if a.traces else HPC_TRACES
    lines = [
        "## Start-time estimates at submission (whole traces)",
        "",
        f"Command: `python benchmarks/forecast_accuracy.py --samples {a.samples}`. Scored: sampled submissions "
        "that had to wait. Median absolute error of the predicted start, in hours. 'gbm p50' and 'on requests' "
        "forecast the same schedule (EASY-SJBF on gbm predictions); 'Slurm today' is EASY on user estimates "
        "forecast on requests. Target: p50 error at least 2x smaller than on requests (same schedule).",
        "",
        "| trace | scored | gbm p50 | gbm p90 | on requests | ratio | started by p90 | Slurm today (EASY, user) "
        "| ratio to Slurm today | target met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = previous_rows("forecast_accuracy")
    for label, file in chosen.items():
        _, wl = load(TRACES / file, SimOptions())
        gbm = replay_with_forecasts(wl.jobs, wl.capacity, Profile(backfill_order="sjf"), GbmPredictor(), a.samples)
        slurm = replay_with_forecasts(wl.jobs, wl.capacity, Profile(), UserEstimate(), a.samples)
        h = 3600.0
        rows[label] = (
            f"| {label} | {gbm.jobs} | {gbm.median_ae_p50 / h:.2f} | {gbm.median_ae_p90 / h:.2f} "
            f"| {gbm.median_ae_request / h:.2f} | {gbm.ratio:.2f} | {gbm.within_p90:.0%} "
            f"| {slurm.median_ae_request / h:.2f} | {slurm.median_ae_request / max(gbm.median_ae_p50, 1e-9):.2f} "
            f"| {'yes' if gbm.ratio >= 2 else 'no'} |"
        )
        print(rows[label], flush=True)
        write_section("forecast_accuracy", "\n".join(lines + [rows[t] for t in HPC_TRACES if t in rows]))


if __name__ == "__main__":
    main()

"""The small-sample p90 rule of `hal server`'s start forecasts, scored on whole-trace replays.

The same replay as benchmarks/forecast_accuracy.py (EASY-SJBF on gbm predictions, the ensemble forecast at
about N evenly spaced submissions), made once with the server's rule on: while fewer than 50 runtime errors or
30 scored forecasts are known, p90 is no earlier than the plan on requested limits. Reported per trace: the
forecasts the rule touched (the first ones of the replay), how many of those jobs started by the p90 without
and with the rule, and the median wait to p90 both ways; the share started by p90 over all scored forecasts,
both ways (the forecasts after the first ones are the same: the rule never changes what the forecaster
learns, and the replay's other figures are forecast_accuracy.py's).
Usage: python benchmarks/forecast_floor.py [--samples N] [--members K] [--floor 30] [TRACE ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hal.engine.predict.gbm import GbmPredictor
from hal.engine.profile import Profile
from hal.learn.forecast_eval import forecast_rows
from hal.sim.runner import SimOptions, load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from argtypes import existing_file, known_names
from learning_results import HPC_TRACES, TRACES

H = 3600.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--floor", type=int, default=30)
    ap.add_argument("traces", nargs="*")
    a = ap.parse_args()
    known_names(ap, a.traces, HPC_TRACES)
    chosen = {n: HPC_TRACES[n] for n in a.traces} if a.traces else HPC_TRACES
    for file in chosen.values():  # the shared traces beside the checkout: missing ones said before any run
        existing_file(ap, TRACES / file, "trace")
    print(
        "| trace | scored | touched by the rule | of those, by p90 without / with | median wait to p90 h, without "
        "/ with | all scored, by p90 without / with |"
    )
    print("|---|---:|---:|---|---|---|")
    for label, file in chosen.items():
        _, wl = load(TRACES / file, SimOptions())
        rows, _, _ = forecast_rows(
            wl.jobs, wl.capacity, Profile(backfill_order="sjf"), GbmPredictor(), a.samples, a.members,
            floor_until=a.floor,
        )  # fmt: skip
        act = np.array([r.actual for r in rows])
        p90 = np.array([r.p90 for r in rows])
        floor90 = np.array([r.floor90 for r in rows])
        sub = np.array([r.submit for r in rows])
        touched = floor90 > p90
        n = int(touched.sum())
        by, by_floor = (act <= p90 + 1e-9), (act <= floor90 + 1e-9)
        t = touched if n else np.ones(len(rows), dtype=bool)  # none touched: the two columns are the same
        print(
            f"| {label} | {len(rows)} | {n} | {by[t].mean():.0%} / {by_floor[t].mean():.0%} "
            f"| {np.median(p90[t] - sub[t]) / H:.2f} / {np.median(floor90[t] - sub[t]) / H:.2f} "
            f"| {by.mean():.1%} / {by_floor.mean():.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

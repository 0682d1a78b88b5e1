"""Start-time estimates for pending jobs, scored against the start that happened (issue 3).

At about N evenly spaced submissions of a whole-trace replay (EASY-SJBF planning on gbm predictions), the
new job's start is forecast from clones of the scheduler, all on the same state: the ensemble's p50 and p90
(what ships), one run on point predictions, and one on requested times as Slurm's `squeue --start` does.
'Slurm today' replays EASY on user estimates and forecasts on requests. Jobs that start at once are not scored.
Usage: python benchmarks/forecast_accuracy.py [--samples N] [--members K] [--by-user U] [--offset R] [--dry]
[TRACE ...] (--by-user 0: never draw from a user's own errors; --offset R: sample submissions i with i % step == R;
--dry: print the rows without writing benchmarks/results/learning.md)
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

H = 3600.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--by-user", type=int, default=8)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--dry", action="store_true")
    ap.add_argument("traces", nargs="*")
    a = ap.parse_args()
    chosen = {n: HPC_TRACES[n] for n in a.traces} if a.traces else HPC_TRACES
    extra = (f" --by-user {a.by_user}" if a.by_user != 8 else "") + (f" --offset {a.offset}" if a.offset else "")
    lines = [
        "## Start-time estimates at submission (whole traces)",
        "",
        f"Command: `python benchmarks/forecast_accuracy.py --samples {a.samples} --members {a.members}{extra}`. "
        "Scored: sampled submissions that had to wait (the rest start at once and every method is exact). "
        "Median absolute error of the predicted start, in hours. All forecasts of a row are made on the same "
        "schedule (EASY-SJBF on gbm predictions) at the same instants: 'p50' is the ensemble's median (forward "
        f"runs of the queue, no further arrivals, with {a.members} draws of the runtimes from the predictor's "
        "recent actual/predicted ratios: the user's own last 16 once there are 8, else those of predictions of "
        "the same order; running jobs' draws conditioned on the time already run), 'p90' the ensemble's 90th "
        "percentile widened by how earlier forecasts fared (online, from jobs already started), 'one run' a "
        "single forward run on the point predictions, 'on requests' what `squeue --start` computes, 'true "
        "runtimes' a forward run on the jobs' real runtimes (a diagnostic no forecaster can have: what is left "
        "is due to jobs that arrive later), 'delayed' the share of jobs that started later than even that. 'Slurm "
        "today' is EASY on user estimates, forecast on requests. Target: p50 error at least 2x smaller than on "
        "requests (same schedule).",
        "",
        "| trace | sampled | scored | median wait h | p50 | one run | on requests | ratio | started by p90 "
        "| by p90 before widening | by one run on upper | true runtimes | delayed | Slurm today "
        "| ratio to Slurm today | ms per forecast | target met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = previous_rows("forecast_accuracy")
    for label, file in chosen.items():
        _, wl = load(TRACES / file, SimOptions())
        sjbf = Profile(backfill_order="sjf")
        gbm = replay_with_forecasts(
            wl.jobs, wl.capacity, sjbf, GbmPredictor(), a.samples, a.members, a.by_user, a.offset
        )
        slurm = replay_with_forecasts(wl.jobs, wl.capacity, Profile(), UserEstimate(), a.samples, 0, 0, a.offset)
        rows[label] = (
            f"| {label} | {gbm.sampled} | {gbm.jobs} | {gbm.median_wait / H:.2f} | {gbm.median_ae_p50 / H:.2f} "
            f"| {gbm.median_ae_point / H:.2f} | {gbm.median_ae_request / H:.2f} | {gbm.ratio:.2f} "
            f"| {gbm.within_p90:.0%} | {gbm.within_raw90:.0%} | {gbm.within_upper:.0%} "
            f"| {gbm.median_ae_exact / H:.2f} | {gbm.delayed:.0%} "
            f"| {slurm.median_ae_request / H:.2f} "
            f"| {slurm.median_ae_request / max(gbm.median_ae_p50, 1e-9):.2f} | {gbm.ms_per_forecast:.0f} "
            f"| {'yes' if gbm.ratio >= 2 else 'no'} |"
        )
        print(rows[label], f"({gbm.seconds:.0f} s + {slurm.seconds:.0f} s)", flush=True)
        if not a.dry:
            write_section("forecast_accuracy", "\n".join(lines + [rows[t] for t in HPC_TRACES if t in rows]))


if __name__ == "__main__":
    main()

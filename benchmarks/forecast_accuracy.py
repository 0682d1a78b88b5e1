"""Start-time estimates for pending jobs, scored against the start that happened (issue 3).

At about N evenly spaced submissions of a whole-trace replay (EASY-SJBF planning on gbm predictions), the
new job's start is forecast from clones of the scheduler, all on the same state: the ensemble's p50 and p90
(what ships), one run on point predictions, and one on requested times as Slurm's `squeue --start` does.
'Slurm today' replays EASY on user estimates and forecasts on requests. Jobs that start at once are not scored.
Usage: python benchmarks/forecast_accuracy.py [--samples N] [--members K] [--by-user U] [--offset R] [--dry]
[TRACE ...] (TRACE: one of the five archive traces by name, or a path to any SWF file, e.g. a site's own history
or Philly's; --by-user 0: never draw from a user's own errors; --offset R: sample submissions i with
i % step == R; --dry: print the rows without writing benchmarks/results/learning.md)
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from hal.engine.predict.basic import UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.profile import Profile
from hal.learn.forecast_eval import replay_with_forecasts
from hal.sim.runner import SimOptions, load
from hal.sim.swf import TraceError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from argtypes import nonneg_int, positive_int
from learning_results import HPC_TRACES, TRACES, previous_rows, write_section

H = 3600.0


def trace_path(name: str) -> tuple[str, Path]:
    """A built-in trace by name, else a path to an SWF file (labelled by its file name)."""
    if name in HPC_TRACES:
        return name, TRACES / HPC_TRACES[name]
    path = Path(name)
    if path.is_file():
        return path.name, path
    raise argparse.ArgumentTypeError(
        f"{name!r} is neither a trace name ({', '.join(HPC_TRACES)}) nor an SWF file (no file at that path)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=positive_int, default=1000, help="submissions to forecast at (about)")
    ap.add_argument("--members", type=positive_int, default=20, help="ensemble draws per forecast")
    ap.add_argument("--by-user", type=nonneg_int, default=8, help="a user's own errors once they have this many")
    ap.add_argument("--offset", type=nonneg_int, default=0)
    ap.add_argument("--dry", action="store_true", help="print the rows, do not write learning.md")
    ap.add_argument("traces", nargs="*", type=trace_path, metavar="TRACE", help="a name or an SWF file's path")
    a = ap.parse_args()
    chosen = dict(a.traces) if a.traces else {n: TRACES / f for n, f in HPC_TRACES.items()}
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
        try:
            _, wl = load(file, SimOptions())
        except (TraceError, ValueError) as exc:
            ap.error(f"{file}: {exc}")
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
            f"| {verdict(gbm.jobs, gbm.ratio)} |"
        )
        print(rows[label], f"({gbm.seconds:.0f} s + {slurm.seconds:.0f} s)", flush=True)
        if not a.dry:
            order = [*(t for t in HPC_TRACES if t in rows), *sorted(set(rows) - set(HPC_TRACES))]
            write_section("forecast_accuracy", "\n".join(lines + [rows[t] for t in order]))


def verdict(scored: int, ratio: float) -> str:
    """'yes' when the p50 error is at least 2x smaller than on requests; 'n/a' when nothing was scored (no
    sampled job waited) or the ratio is not a number, which is no evidence either way."""
    if scored == 0 or not math.isfinite(ratio):
        return "n/a (nothing scored)" if scored == 0 else "n/a"
    return "yes" if ratio >= 2 else "no"


if __name__ == "__main__":
    main()

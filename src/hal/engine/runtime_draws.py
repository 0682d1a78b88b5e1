"""What a forecast member draws a job's runtime from: a base times one of the recent errors (hal/engine/forecast.py).

The base is the user's request once the user has ``by_user`` runs with known requests, drawn with the share of
their requests those runs took (actual / requested); else the planner's prediction, with the errors of predictions
(actual / predicted: the user's own, else those of predictions of the same order, ``bin_of``). A job without a
request (no --time in a partition without a limit) is drawn from the user's own recent run times once there are
``by_user`` of them: its prediction is then a stand-in (an hour under user estimates), and ratios learned against
requests or another partition's default scaled it (QA: a user's 5 s runs under a 120 s default had her 20 s runs
without a limit forecast at 150 s, 0.04 of the hour). Why requests first:
users err in proportion to what they ask for (some always take about 90% of it, some crash at once), whatever the
planner predicted for this run; a predictor that picks now one of a user's past runtimes, now another, spreads
actual / predicted over a factor of ten where actual / requested barely moves. In the whole-trace replays of
benchmarks/forecast_accuracy.py (RESULTS 'Start-time estimates') requests as the base cut the median p50 error on
9 of 10 trace samples; choosing per user the base whose ratios spread less cut it on 8 and by less. A live user who
never gives --time in a partition with a default has it as every request: the draws are then her recent run times
scaled to it. The plan itself still runs on the predictions (the members keep the scheduler's plan)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


def bin_of(predicted: float) -> int:
    """Error classes by predicted runtime (factors of 4): short predictions miss by far larger factors."""
    return int(math.log2(max(predicted, 1.0)) // 2)


Errors = dict[int | str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class Draws:
    """Sorted ratios and run times, as ``Forecaster`` learned them: ``errors`` of predictions (actual / predicted)
    per class (``bin_of``, -1: all) and per user; per user with enough of them, ``asked`` (actual / requested) and
    ``runs`` (seconds)."""

    errors: Errors
    asked: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    runs: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)


def draws_for(
    draws: Draws, user: str, predicted: float, requested: float | None
) -> tuple[npt.NDArray[np.float64], float]:
    """The ratios a job's runtime is drawn from and the base they scale (module docstring)."""
    if requested is not None:
        own = draws.asked.get(user)
        if own is not None:
            return own, max(requested, 1.0)
    else:
        own = draws.runs.get(user)
        if own is not None:
            return own, 1.0  # run times themselves
    errors = draws.errors
    own = errors.get(user)
    return (own if own is not None else errors.get(bin_of(predicted), errors[-1])), predicted


def tail(rng: np.random.Generator, low: float, limit: float | None, shared: dict[str, float], user: str) -> float:
    """A run time beyond every observed one: log-uniform from ``low`` to the limit (4x ``low`` without one), at
    the one quantile a member draws for all of ``user``'s jobs past every error (kept in ``shared``).

    Why one: a user's jobs that all outlived every recorded error did so for a common reason (a new kind of run,
    one script), not each by luck. Drawn apart, the first of N of them ended N times sooner (log-uniform weighs
    most just past ``low``, which is now): a 1-cpu job that backfills behind 16 one-hour blockers past all
    their user's errors was forecast 10-20 s ahead minute after minute while they ran on (QA)."""
    high = limit if limit is not None and limit > 0 else 4.0 * low
    if high <= low:
        return capped(low, limit)
    q = shared.setdefault(user, float(rng.random()))  # drawn every time, as before: other draws unchanged
    return capped(math.exp(math.log(low) + q * (math.log(high) - math.log(low))), limit)


def capped(run: float, limit: float | None) -> float:
    run = max(float(math.ceil(run)), 1.0)
    return min(run, limit) if limit is not None and limit > 0 else run

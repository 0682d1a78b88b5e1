"""Which of a user's recent runtime errors a start forecast draws from: all of them, unless their runs changed.

A forecast draws a pending or running job's runtime from its user's last ``2 x by_user`` actual/predicted ratios
(``Forecaster``). When a user's runs change and the predictor follows slowly (user estimates never do; gbm may keep
choosing the request), the user keeps erring the new way while the window still holds up to 13 ratios of the old
runs: a user whose hour-long runs began to crash after 30 s was forecast to hold the machine for most of an hour
again and again. A change is taken as shown when the last ``SHIFT`` ratios all lie beyond every earlier one, on the
same side: were the ratios exchangeable, that happens with chance 2 / C(n, SHIFT), 0.4% for n = 16, so a user whose
errors merely vary keeps them all. Ties with the edge count (runs under 1 s all have the same ratio: one early crash
among the older runs hid three new ones, QA), but the newest must lie beyond the older ones' median: a user whose
runs all hit their limit (ratio 1.0) does not lose them to one crash. Whole-trace replays
(benchmarks/forecast_accuracy.py, RESULTS 'Start-time estimates') measure what it does to p50 errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SHIFT = 3  # the newest ratios that, all beyond every older one, stand for the user's runs alone


def recent_errors(ratios: Sequence[float], shift: int = SHIFT) -> npt.NDArray[np.float64]:
    """``ratios`` (oldest first), sorted; only the newest ``shift`` of them if they all lie beyond the rest."""
    a = np.array(ratios, dtype=np.float64)
    if shift > 0 and len(a) > shift:
        new, old = a[-shift:], a[:-shift]
        mid = float(np.median(old))  # ties allowed at the edge, never at the middle (module docstring)
        if (new.min() >= old.max() and new.min() > mid) or (new.max() <= old.min() and new.max() < mid):
            a = new
    return np.sort(a)

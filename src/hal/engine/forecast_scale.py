"""The scale a start forecast's p90 is calibrated on (``Forecaster.calibrated``): 0 the ensemble's raw p90, 1
the plan on requested limits (Slurm's ``squeue --start``), 1 + k that plan plus k ensemble waits. ``score_of``
puts a start that happened on it; ``p90_at`` reads a p90 off it."""

from __future__ import annotations

import math

MIN_WAIT = 60.0  # seconds: the least wait a start past its plan is measured against


def p90_at(now: float, raw: float, requests: float, q: float, cut: float = math.inf) -> float:
    """The start at ``q`` on the calibration scale: 0 the ensemble's p90, 1 the plan on requests (never below
    the ensemble's), 1 + k that plan plus k ensemble waits to p90 of at least MIN_WAIT. A plan on requests
    that never started the job (cut by the work budget at ``cut``, else past a horizon) stands at ``cut``, or
    at the ensemble's p90: a p90 the ensemble has is never lost (inf, N/A) to the cheaper plan's shorter run."""
    if not math.isfinite(requests):
        requests = cut if math.isfinite(cut) else raw
    top = max(raw, requests)
    p90 = raw if q <= 0.0 or top == raw else raw + min(q, 1.0) * (top - raw)
    return p90 + (q - 1.0) * max(raw - now, MIN_WAIT) if q > 1.0 else p90


def score_of(start: float, now: float, raw: float, requests: float) -> float:
    """Where ``start`` fell on the scale ``p90_at`` reads, for the forecast made at ``now``: the least q whose
    p90 would have held."""
    top = max(raw, requests)
    if start <= raw:  # never narrower than the ensemble: starts long before p90s once put p90s on p50s (QA)
        return 0.0
    if start <= top:
        return (start - raw) / (top - raw)
    return 1.0 + (start - top) / max(raw - now, MIN_WAIT)

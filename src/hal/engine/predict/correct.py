"""What the planner does when a job outlives its prediction: extend it, never kill it."""

from __future__ import annotations

LADDER: tuple[float, ...] = (60, 300, 900, 1800, 3600, 7200, 18000, 36000, 72000, 180000, 360000)


def extend(elapsed: float, limit: float | None, rule: str = "reqtime") -> float:
    """A new total estimate strictly above ``elapsed``.

    ``reqtime`` (Tsafrir's correction) jumps to the user's limit, then climbs the ladder when a trace lets
    a job run past its limit; ``ladder`` climbs standard durations; ``double`` doubles the elapsed time.
    """
    if rule == "reqtime" and limit is not None and limit > elapsed:
        return limit
    if rule == "double":
        return max(2.0 * elapsed, elapsed + 1.0)
    if rule not in ("reqtime", "ladder", "double"):
        raise ValueError(f"unknown correction rule {rule!r} (reqtime, ladder, double)")
    for step in LADDER:
        if step > elapsed:
            return step
    return 2.0 * elapsed

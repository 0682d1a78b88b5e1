"""What the planner does when a job outlives its prediction: extend it, never kill it."""

from __future__ import annotations

LADDER: tuple[float, ...] = (60, 300, 900, 1800, 3600, 7200, 18000, 36000, 72000, 180000, 360000)
RULES: tuple[str, ...] = ("reqtime", "ladder", "double")


def extend(elapsed: float, limit: float | None, rule: str = "reqtime") -> float:
    """A new total estimate strictly above ``elapsed``.

    ``reqtime`` (Tsafrir's correction) jumps to the user's limit; ``ladder`` (Tsafrir's incremental one)
    climbs standard durations; ``double`` doubles the elapsed time. While the job is within its limit the
    growing rules stop at the limit (a job is not expected to outlive its request); past it, ``reqtime``
    climbs the ladder and the others keep growing, since a trace may let a job run over its limit.
    """
    if rule not in RULES:
        raise ValueError(f"unknown correction rule {rule!r} ({', '.join(RULES)})")
    cap = limit if limit is not None and limit > elapsed else None
    if rule == "reqtime" and cap is not None:
        return cap
    if rule == "double":
        grown = max(2.0 * elapsed, elapsed + 1.0)
    else:
        grown = next((step for step in LADDER if step > elapsed), 2.0 * elapsed)
    return min(grown, cap) if cap is not None else grown

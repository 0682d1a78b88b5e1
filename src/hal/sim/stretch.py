"""Why topology matters: a job's runtime stretches with the levels of the tree its nodes span."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_FACTOR = 100.0  # a job 100 times longer per level crossed is no network's slowdown: a typo, refused


@dataclass(frozen=True, slots=True)
class StretchModel:
    """runtime x (1 + sum of per-level factors for every level crossed above one leaf domain).

    ``heavy`` and ``light`` give the factor per level crossed (level 2 = first level above the leaf, ...;
    the last entry repeats for higher levels) for communication-heavy and light applications. Which jobs
    are heavy is a deterministic draw per job id with probability ``heavy_share``, so policies compare on
    the same jobs. Defaults: a heavy job runs 20% longer per level crossed, a light one 3%.
    """

    heavy: tuple[float, ...] = (0.20,)
    light: tuple[float, ...] = (0.03,)
    heavy_share: float = 0.5

    def __post_init__(self) -> None:
        if not self.heavy or not self.light:
            raise ValueError("stretch factors need at least one level")
        for f in (*self.heavy, *self.light):  # nan lost a job without a count, inf started one at t=inf (QA)
            if not math.isfinite(f) or not 0.0 <= f <= MAX_FACTOR:
                raise ValueError(f"stretch factor {f!r} must be a finite number from 0 to {MAX_FACTOR:g}")
        if not (math.isfinite(self.heavy_share) and 0.0 <= self.heavy_share <= 1.0):
            raise ValueError(f"heavy share {self.heavy_share!r} must be a number from 0 to 1")

    def is_heavy(self, job_id: int) -> bool:
        return (job_id * 2654435761 % 4294967296) / 4294967296 < self.heavy_share

    def factor(self, job_id: int, level: int) -> float:
        """``level`` is the highest level spanned (0 one node, 1 one leaf, 2 two leaves under a spine, ...)."""
        table = self.heavy if self.is_heavy(job_id) else self.light
        extra = 0.0
        for crossed in range(2, level + 1):
            extra += table[min(crossed - 2, len(table) - 1)]
        return 1.0 + extra


def stretched_run(run: float, factor: float, limit: float | None) -> tuple[float, bool]:
    """A run stretched by ``factor``, cut at the job's time limit as a real scheduler kills it (TIMEOUT), and
    whether the stretch killed it: it pushed a run within the limit past it. ``limit``: the user's own (None: none
    known, nothing to cut at). The cut is never below the trace's own run: a trace job that reached or ran past
    its request (a site's grace) ran that long anyway and ended as it did in the trace, not by the stretch."""
    full = run * factor
    if limit is None or full <= max(limit, run):
        return full, False
    return max(limit, run), run < limit


def parse_stretch(spec: str, option: str = "--stretch-factors") -> StretchModel:
    """``default`` (StretchModel's own factors) or ``heavy=F[/F...],light=F[/F...],share=S``: per-level factors
    for levels 2, 3, ... (the last repeats higher up) and the share of communication-heavy jobs; keys left out
    keep their defaults (ValueError naming ``option`` and the fix)."""
    if spec in ("", "default"):
        return StretchModel()
    given: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key, eq, value = part.partition("=")
        if not eq or key.strip() not in ("heavy", "light", "share"):
            raise ValueError(f"{option} {spec!r}: give heavy=F[/F...],light=F[/F...],share=S")
        if key.strip() in given:
            raise ValueError(f"{option} {spec!r} gives {key.strip()} twice")
        given[key.strip()] = value.strip()
    factors = {k: tuple(_number(f, option, k) for f in given[k].split("/")) for k in ("heavy", "light") if k in given}
    share = _number(given["share"], option, "share") if "share" in given else StretchModel().heavy_share
    bad = [f"{k}={f:g}" for k, fs in factors.items() for f in fs if not 0.0 <= f <= MAX_FACTOR]
    if bad:
        raise ValueError(
            f"{option} {', '.join(bad)}: a factor is the share a job runs longer per level crossed, "
            f"from 0 to {MAX_FACTOR:g} (0.2: 20% longer)"
        )
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{option} share={share:g}: the share of communication-heavy jobs is from 0 to 1")
    return StretchModel(**factors, heavy_share=share)


def _number(text: str, option: str, key: str) -> float:
    """A finite number, as the benchmarks' options take them (nan and inf are refused, not run)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{option} {key}={text!r}: give a number, e.g. heavy=0.2/0.3,light=0.03,share=0.5") from None
    if not math.isfinite(value):
        raise ValueError(f"{option} {key}={text}: {text!r} is not a finite number")
    return value


def multipliers_given(spec: str) -> bool:
    """Whether a factor of ``spec`` looks like a multiplier (>= 1), not the share added per level that it is."""
    values = [v for part in spec.split(",") for key, _, v in [part.partition("=")] if key.strip() in ("heavy", "light")]
    try:
        return any(1.0 <= float(f) <= MAX_FACTOR for v in values for f in v.split("/"))
    except ValueError:
        return False  # parse_stretch names the fix

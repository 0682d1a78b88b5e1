"""Why topology matters: a job's runtime stretches with the levels of the tree its nodes span."""

from __future__ import annotations

from dataclasses import dataclass


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
        if any(f < 0 for f in (*self.heavy, *self.light)):
            raise ValueError("stretch factors must be >= 0")
        if not 0.0 <= self.heavy_share <= 1.0:
            raise ValueError("heavy_share must be in [0, 1]")

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


def parse_stretch(spec: str) -> StretchModel:
    """``default`` (StretchModel's own factors) or ``heavy=F[/F...],light=F[/F...],share=S``: per-level factors
    for levels 2, 3, ... (the last repeats higher up) and the share of communication-heavy jobs; keys left out
    keep their defaults (ValueError naming the fix)."""
    if spec in ("", "default"):
        return StretchModel()
    given: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key, eq, value = part.partition("=")
        if not eq or key not in ("heavy", "light", "share"):
            raise ValueError(f"--stretch {spec!r}: give default or heavy=F[/F...],light=F[/F...],share=S")
        if key in given:
            raise ValueError(f"--stretch {spec!r} gives {key} twice")
        given[key] = value
    try:
        factors = {k: tuple(float(f) for f in given[k].split("/")) for k in ("heavy", "light") if k in given}
        share = float(given["share"]) if "share" in given else StretchModel().heavy_share
    except ValueError:
        raise ValueError(f"--stretch {spec!r}: factors and share are numbers, e.g. heavy=0.2/0.3,light=0.03") from None
    return StretchModel(**factors, heavy_share=share)


def multipliers_given(spec: str) -> bool:
    """Whether a factor of ``spec`` looks like a multiplier (>= 1), not the share added per level that it is."""
    values = [v for part in spec.split(",") for key, _, v in [part.partition("=")] if key.strip() in ("heavy", "light")]
    try:
        return any(float(f) >= 1.0 for v in values for f in v.split("/"))
    except ValueError:
        return False  # parse_stretch names the fix

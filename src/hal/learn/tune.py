"""Tuning the parametric priority by simulation on an earlier part of a trace, never on the test part.

The search is deterministic for a seed: the known heuristics expressed as weights, then random weight
vectors, then coordinate refinement of the best. Its objective is the average bounded slowdown of a
simulation, either HAL's own (EASY with predictions) or RLScheduler's setup (windows from an empty
machine, committed head, requested times).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

from hal.engine.plugins.tuned import TunedArgs, tuned_key
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.metrics import summarize
from hal.sim.rlscheduler import Loaded, RlJob, RlSetup, simulate_window
from hal.sim.simulator import Simulation, pool_for

Objective = Callable[[TunedArgs], float]
DIMS_ALL = ("w_pred", "w_req", "w_procs", "w_area", "w_age")
DIMS_REQUEST_ONLY = ("w_pred", "w_procs", "w_area", "w_age")  # when the prediction is the request
SEEDS: tuple[TunedArgs, ...] = (
    TunedArgs(w_pred=1.0),  # shortest first
    TunedArgs(w_pred=0.0, w_age=1.0),  # first come, first served
    TunedArgs(w_pred=0.0, w_area=1.0, w_age=0.01),  # F1-like: small area first, ageing slowly
    TunedArgs(w_pred=1.0, w_procs=0.3, w_age=0.05),
)


@dataclass(frozen=True, slots=True)
class TuneResult:
    best: TunedArgs
    value: float
    evaluations: int
    trail: tuple[tuple[TunedArgs, float], ...]


def _random_args(rng: random.Random, dims: Sequence[str]) -> TunedArgs:
    values = {d: rng.uniform(-1.0, 1.0) for d in dims if d != "w_age"}
    if "w_age" in dims:
        values["w_age"] = 10 ** rng.uniform(-4.0, 1.0)
    return TunedArgs(**values) if "w_pred" in values else TunedArgs(w_pred=0.0, **values)


def search(objective: Objective, budget: int = 200, seed: int = 1, dims: Sequence[str] = DIMS_ALL) -> TuneResult:
    """Minimise ``objective`` over the weights named in ``dims`` with about ``budget`` evaluations."""
    rng = random.Random(seed)
    cache: dict[tuple[float, ...], float] = {}
    trail: list[tuple[TunedArgs, float]] = []

    def value(args: TunedArgs) -> float:
        key = args.vector()
        if key not in cache:
            got = objective(args)
            cache[key] = got if math.isfinite(got) else math.inf
            trail.append((args, cache[key]))
        return cache[key]

    best = min(SEEDS, key=value)
    n_random = max(budget // 2 - len(SEEDS), 0)
    for _ in range(n_random):
        cand = _random_args(rng, dims)
        if value(cand) < value(best):
            best = cand
    step = 0.5
    while len(cache) < budget and step > 0.01:
        improved = False
        for dim in dims:
            for move in (-step, step):
                if len(cache) >= budget:
                    break
                current = getattr(best, dim)
                new = current * (1.0 + move) if dim == "w_age" and current > 0 else current + move
                cand = replace(best, **{dim: new})
                if value(cand) < value(best):
                    best, improved = cand, True
        if not improved:
            step /= 2.0
    return TuneResult(best, value(best), len(cache), tuple(trail))


def rl_key(args: TunedArgs) -> Callable[[RlJob], float]:
    """The tuned priority under RLScheduler's setup: the prediction is the requested time."""
    return lambda j: tuned_key(args, float(j.req), float(j.req), j.procs, float(j.submit))


def rl_objective(loaded: Loaded, starts: Sequence[int], size: int, backfill: bool) -> Objective:
    def run(args: TunedArgs) -> float:
        setup = RlSetup(policy="custom", backfill=backfill, key=rl_key(args))
        values = [simulate_window(loaded.jobs[s : s + size], loaded.nodes, loaded.ppn, setup) for s in starts]
        return sum(values) / len(values)

    return run


def outside_starts(
    n_jobs: int, test_starts: Sequence[int], size: int, count: int, seed: int = 7, min_size: int = 512
) -> list[tuple[int, int]]:
    """Training windows (start, length) among the first ``n_jobs`` that share no job with any test window."""
    covered = sorted((s, s + size) for s in test_starts)
    gaps: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in covered:
        if lo > pos:
            gaps.append((pos, lo))
        pos = max(pos, hi)
    if pos < n_jobs:
        gaps.append((pos, n_jobs))
    usable = [(a, b) for a, b in gaps if b - a >= min_size]
    if not usable:
        raise ValueError("no stretch of jobs outside the test windows is long enough to train on")
    rng = random.Random(seed)
    weights = [b - a for a, b in usable]
    out = []
    for _ in range(count):
        a, b = rng.choices(usable, weights=weights)[0]
        length = min(size, b - a)
        out.append((rng.randint(a, b - length), length))
    return out


def rl_objective_windows(loaded: Loaded, windows: Sequence[tuple[int, int]], backfill: bool) -> Objective:
    def run(args: TunedArgs) -> float:
        setup = RlSetup(policy="custom", backfill=backfill, key=rl_key(args))
        values = [simulate_window(loaded.jobs[s : s + n], loaded.nodes, loaded.ppn, setup) for s, n in windows]
        return sum(values) / len(values)

    return run


def args_text(args: TunedArgs) -> str:
    return ", ".join(f"{f.name}={getattr(args, f.name):.4g}" for f in fields(args))


def order_bsld(
    jobs: Sequence[JobSpec],
    capacity: int,
    estimate: str,
    backfill_order: str,
    order: str,
    order_args: dict[str, float] | None = None,
) -> float:
    """Average bounded slowdown of HAL's EASY on ``jobs`` under one queue order (a fresh predictor)."""
    book, space = pool_for(capacity)
    profile = Profile(order=order, backfill="easy", backfill_order=backfill_order, order_args=order_args or {})
    return summarize(Simulation(list(jobs), book, space, profile, make_predictor(estimate)).run()).avg_bsld


def sim_objective(jobs: Sequence[JobSpec], capacity: int, estimate: str, backfill_order: str = "sjf") -> Objective:
    return lambda args: order_bsld(jobs, capacity, estimate, backfill_order, "tuned", asdict(args))

"""Tuning the parametric priority by simulation on an earlier part of a trace, never on the test part.

The search is deterministic for a seed: the known heuristics expressed as weights, then random weight
vectors (uniform, or log-uniform and sometimes off for the age rate and the starvation guard), then
coordinate refinement of the best with a shrinking step. Its objective is the average bounded slowdown of
a simulation, either HAL's own (EASY with predictions) or RLScheduler's setup (windows from an empty
machine, committed head, requested times), where many windows are combined by a plain or a log mean.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

from hal.engine.capacity import Book
from hal.engine.plugins.tuned import STARVED, TunedArgs, tuned_key, wait_term
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace
from hal.sim.metrics import summarize
from hal.sim.rlscheduler import DynamicKey, Loaded, RlJob, RlSetup, WindowKey, simulate_window
from hal.sim.simulator import Simulation, pool_for

Objective = Callable[[TunedArgs], float]
# A fresh machine for one simulation under a profile (its placement picks the node book): a processor
# count means a pool of that many processors, as the archive traces describe their machines.
Machine = int | Callable[[Profile], tuple[Book, ResourceSpace]]
DIMS_ALL = ("w_pred", "w_req", "w_procs", "w_area", "w_age")
DIMS_REQUEST_ONLY = ("w_pred", "w_procs", "w_area", "w_age")  # when the prediction is the request
DIMS_DYNAMIC = (*DIMS_ALL, "w_logarea", "w_wait", "max_wait")  # HAL's simulator: age and a starvation guard
FAMILIES: dict[str, tuple[str, ...]] = {"static": DIMS_ALL, "dynamic": DIMS_DYNAMIC}
# RLScheduler's agent sees each queued job's wait, request, size and whether it fits now: the same here.
DIMS_RL = ("w_pred", "w_procs", "w_area", "w_logarea", "w_age", "w_wait", "max_wait", "w_fit")
SEEDS: tuple[TunedArgs, ...] = (
    TunedArgs(w_pred=1.0),  # shortest first
    TunedArgs(w_pred=0.0, w_age=1.0),  # first come, first served
    TunedArgs(w_pred=0.0, w_area=1.0, w_age=0.01),  # F1-like: small area first, ageing slowly
    TunedArgs(w_pred=1.0, w_procs=0.3, w_age=0.05),
)


@dataclass(frozen=True, slots=True)
class Dim:
    """How a weight is sampled and moved: uniformly on [lo, hi], or log-uniformly and sometimes off (0)."""

    lo: float
    hi: float
    log: bool = False
    p_off: float = 0.0


SPACE: dict[str, Dim] = {
    "w_pred": Dim(-1.0, 2.0),
    "w_req": Dim(-1.0, 1.0),
    "w_procs": Dim(-1.0, 1.0),
    "w_area": Dim(-1.0, 1.0),
    "w_logarea": Dim(-1.0, 1.0),
    "w_age": Dim(1e-4, 10.0, log=True),
    "w_wait": Dim(-1.0, 2.0),
    "max_wait": Dim(0.5, 200.0, log=True, p_off=0.3),  # hours
    "w_fit": Dim(0.0, 20.0, p_off=0.3),
}


@dataclass(frozen=True, slots=True)
class TuneResult:
    best: TunedArgs
    value: float
    evaluations: int
    trail: tuple[tuple[TunedArgs, float], ...]


def _sample(rng: random.Random, dim: Dim) -> float:
    if dim.p_off and rng.random() < dim.p_off:
        return 0.0
    if dim.log:
        return float(10 ** rng.uniform(math.log10(dim.lo), math.log10(dim.hi)))
    return rng.uniform(dim.lo, dim.hi)


def _random_args(rng: random.Random, dims: Sequence[str]) -> TunedArgs:
    values = {d: _sample(rng, SPACE[d]) for d in dims}
    return TunedArgs(**values) if "w_pred" in values else TunedArgs(w_pred=0.0, **values)


def _moves(dim: Dim, current: float, step: float) -> list[float]:
    """Neighbours of ``current`` at a relative step: a share of the range, or of its decades when logarithmic."""
    if dim.log:
        if current <= 0.0:
            return [math.sqrt(dim.lo * dim.hi)] if dim.p_off else [dim.lo]
        factor = 10 ** (step * math.log10(dim.hi / dim.lo))
        return [current / factor, current * factor] + ([0.0] if dim.p_off else [])
    span = step * (dim.hi - dim.lo)
    return [current - span, current + span]


def search(
    objective: Objective,
    budget: int = 200,
    seed: int = 1,
    dims: Sequence[str] = DIMS_ALL,
    start: Sequence[TunedArgs] = (),
) -> TuneResult:
    """Minimise ``objective`` over the weights named in ``dims`` with about ``budget`` evaluations: the
    known heuristics and ``start`` (e.g. the best of a smaller family), random draws for half the budget,
    then coordinate refinement with a shrinking step."""
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

    best = min((*SEEDS, *start), key=value)
    n_random = max(budget // 2 - len(SEEDS) - len(start), 0)
    for _ in range(n_random):
        cand = _random_args(rng, dims)
        if value(cand) < value(best):
            best = cand
    step = 0.25
    while len(cache) < budget and step > 0.005:
        improved = False
        for dim in dims:
            for new in _moves(SPACE[dim], getattr(best, dim), step):
                if len(cache) >= budget:
                    break
                cand = replace(best, **{dim: new})
                if value(cand) < value(best):
                    best, improved = cand, True
        if not improved:
            step /= 2.0
    return TuneResult(best, value(best), len(cache), tuple(trail))


def rl_key(args: TunedArgs) -> Callable[[RlJob], float]:
    """The tuned priority under RLScheduler's setup: the prediction is the requested time."""
    return lambda j: tuned_key(args, float(j.req), float(j.req), j.procs, float(j.submit))


def rl_dynamic(args: TunedArgs) -> DynamicKey:
    """The tuned key with its time-dependent terms (wait, starvation guard, fits-now) for one window."""

    def build(jobs: Sequence[RlJob], ppn: float) -> WindowKey:
        static = [tuned_key(args, float(j.req), float(j.req), j.procs, float(j.submit)) for j in jobs]
        sub = [j.submit for j in jobs]
        need = [math.ceil(j.procs / ppn) for j in jobs]
        fit = args.w_fit

        def keys(queue: list[int], now: int, free: int) -> list[float]:
            out = [wait_term(args, static[q], now - sub[q], sub[q]) for q in queue]
            if fit:
                out = [k + fit if need[q] > free and k > STARVED / 2 else k for k, q in zip(out, queue, strict=True)]
            return out

        return keys

    return build


class Last2Window:
    """The tuned key on last2 predictions learned inside one window, from its completions in time order.

    Cold at the window's start (no job outside it is seen, so nothing of the test windows leaks into
    training and nothing after a decision informs it): a user with no finished job yet is predicted at the
    request. Keys are cached per job and recomputed only when its user's history changes.
    """

    def __init__(self, args: TunedArgs, jobs: Sequence[RlJob], ppn: float) -> None:
        self.args = args
        self.jobs = jobs
        self.need = [math.ceil(j.procs / ppn) for j in jobs]
        self.history: dict[int, deque[int]] = {}
        self.version: dict[int, int] = {}
        self.cache: list[tuple[int, float]] = [(-1, 0.0)] * len(jobs)

    def predict(self, job: RlJob) -> float:
        past = self.history.get(job.user) if job.user >= 0 else None
        if not past:
            return float(job.req)
        value = sum(past) / len(past)
        return min(value, float(job.req)) if job.req > 0 else value

    def ended(self, j: int) -> None:
        user = self.jobs[j].user
        self.history.setdefault(user, deque(maxlen=2)).append(self.jobs[j].run)
        self.version[user] = self.version.get(user, 0) + 1

    def static(self, q: int) -> float:
        job = self.jobs[q]
        version = self.version.get(job.user, 0)
        seen, key = self.cache[q]
        if seen != version:
            key = tuned_key(self.args, self.predict(job), float(job.req), job.procs, float(job.submit))
            self.cache[q] = (version, key)
        return key

    def __call__(self, queue: list[int], now: int, free: int) -> list[float]:
        args, jobs = self.args, self.jobs
        out = [wait_term(args, self.static(q), now - jobs[q].submit, jobs[q].submit) for q in queue]
        if args.w_fit:
            need = self.need
            out = [k + args.w_fit if need[q] > free and k > STARVED / 2 else k for k, q in zip(out, queue, strict=True)]
        return out


def rl_setup(args: TunedArgs, backfill: bool = True, predictor: str = "request") -> RlSetup:
    """The RLScheduler variant running the tuned key: static when it can be, else re-keyed at each choice.
    ``predictor`` "last2" predicts with Tsafrir's last2 learned online inside each window; backfilling
    still plans on requested times, as the setup does."""
    if predictor == "last2":
        return RlSetup(policy="custom", backfill=backfill, dynamic=lambda jobs, ppn: Last2Window(args, jobs, ppn))
    if predictor != "request":
        raise ValueError(f"unknown predictor {predictor!r} for RLScheduler's setup; choose request or last2")
    if args.static:
        return RlSetup(policy="custom", backfill=backfill, key=rl_key(args))
    return RlSetup(policy="custom", backfill=backfill, dynamic=rl_dynamic(args))


def aggregate(values: Sequence[float], how: str = "mean") -> float:
    """Windows' average bsld combined into one objective: the plain mean (the table's metric), the mean of
    logarithms (one window with huge slowdowns no longer decides alone) or the mean without the worst tenth."""
    if how == "mean":
        return sum(values) / len(values)
    if how == "logmean":
        return math.exp(sum(math.log(v) for v in values) / len(values))
    if how == "trim":
        kept = sorted(values)[: max(1, len(values) - max(1, len(values) // 10))]
        return sum(kept) / len(kept)
    raise ValueError(f"unknown objective {how!r}; choose mean, logmean or trim")


def rl_objective(loaded: Loaded, starts: Sequence[int], size: int, backfill: bool) -> Objective:
    return rl_objective_windows(loaded, [(s, size) for s in starts], backfill)


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


def rl_windows(
    loaded: Loaded, windows: Sequence[tuple[int, int]], args: TunedArgs, backfill: bool, predictor: str = "request"
) -> list[float]:
    setup = rl_setup(args, backfill, predictor)
    return [simulate_window(loaded.jobs[s : s + n], loaded.nodes, loaded.ppn, setup) for s, n in windows]


def rl_objective_windows(
    loaded: Loaded, windows: Sequence[tuple[int, int]], backfill: bool, how: str = "mean", predictor: str = "request"
) -> Objective:
    return lambda args: aggregate(rl_windows(loaded, windows, args, backfill, predictor), how)


def args_text(args: TunedArgs) -> str:
    """The weights that are set (zero ones left out)."""
    return ", ".join(f"{f.name}={getattr(args, f.name):.4g}" for f in fields(args) if getattr(args, f.name)) or "all 0"


def order_bsld(
    jobs: Sequence[JobSpec],
    machine: Machine,
    estimate: str,
    backfill_order: str,
    order: str,
    order_args: dict[str, float] | None = None,
    placement: str = "firstfit",
) -> float:
    """Average bounded slowdown of HAL's EASY on ``jobs`` under one queue order (a fresh predictor)."""
    profile = Profile(
        order=order, backfill="easy", backfill_order=backfill_order, order_args=order_args or {}, placement=placement
    )
    book, space = pool_for(machine) if isinstance(machine, int) else machine(profile)
    return summarize(Simulation(list(jobs), book, space, profile, make_predictor(estimate)).run()).avg_bsld


def sim_objective(
    jobs: Sequence[JobSpec], machine: Machine, estimate: str, backfill_order: str = "sjf", placement: str = "firstfit"
) -> Objective:
    return lambda args: order_bsld(jobs, machine, estimate, backfill_order, "tuned", asdict(args), placement)

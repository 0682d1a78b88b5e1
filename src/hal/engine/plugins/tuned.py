"""A parametric priority tuned from a site's own history: weights over runtime, request, size, area, age, share.

key = w_pred*log10(predicted) + w_req*log10(requested) + w_procs*log2(procs)
      + w_area*procs*log10(predicted)/100 + w_logarea*log10(predicted)*log2(procs)
      + w_age*submit_hours - w_wait*log10(1 + wait_minutes) - w_fairshare*fairshare_factor;
smallest first. A job that has waited ``max_wait`` hours or more (0: never) jumps ahead of all others, oldest
first: the starvation guard. Age through the submit time is static (the clock term is the same for every
job); the wait term, the guard and fair share make the key depend on the time, so the queue is re-sorted.
``w_fit`` (a penalty for a job wider than the free processors) needs the free count at the head choice,
which only RLScheduler's variant gives; HAL's EASY already starts whatever fits.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.engine.fairshare import fairshare_factor
from hal.model.job import JobSpec

STARVED = -1.0e12  # key base of a job past max_wait; plus its submit time so the oldest goes first
# The key is linear in the weights, so scaling them all changes nothing: this bound costs no policy, and keeps
# every key finite and far above STARVED (a weight of 1e308 made every key inf: the queue ran FCFS, QA).
MAX_WEIGHT = 1.0e6
MAX_WAIT_HOURS = 1.0e6  # about a century: beyond it the guard never fires


@dataclass(frozen=True, slots=True)
class TunedArgs:
    w_pred: float = 1.0
    w_req: float = 0.0
    w_procs: float = 0.0
    w_area: float = 0.0
    w_age: float = 0.0
    w_fairshare: float = 0.0
    w_logarea: float = 0.0
    w_wait: float = 0.0
    max_wait: float = 0.0  # hours; 0 turns the starvation guard off
    w_fit: float = 0.0  # RLScheduler's variant only

    def __post_init__(self) -> None:
        """Refused here, naming the key: w_pred = 1e308 made every key inf and the run silently FCFS while
        labelled tuned, and a negative max_wait meant nothing (QA)."""
        for name in WEIGHTS:
            value = getattr(self, name)
            if not (_real(value) and -MAX_WEIGHT <= value <= MAX_WEIGHT):
                raise ValueError(
                    f"tuned argument {name} must be a number from {-MAX_WEIGHT:,.0f} to {MAX_WEIGHT:,.0f} (only the "
                    f"weights' ratios order the queue), not {value!r}"
                )
        if not (_real(self.max_wait) and 0.0 <= self.max_wait <= MAX_WAIT_HOURS):
            raise ValueError(
                f"tuned argument max_wait must be a number of hours from 0 (no starvation guard) to "
                f"{MAX_WAIT_HOURS:,.0f}, not {self.max_wait!r}"
            )

    def vector(self) -> tuple[float, ...]:
        return astuple(self)

    @property
    def static(self) -> bool:
        return self.w_fairshare == 0.0 and self.w_wait == 0.0 and self.max_wait <= 0.0 and self.w_fit == 0.0


WEIGHTS = ("w_pred", "w_req", "w_procs", "w_area", "w_age", "w_fairshare", "w_logarea", "w_wait", "w_fit")


def _real(value: object) -> bool:
    """A real number, not a bool (TOML's true would pass as 1); NaN fails every bound it is compared with."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def tuned_key(args: TunedArgs, predicted: float, requested: float, procs: int, submit: float) -> float:
    """The static part of the key; shared with the RLScheduler setup, where the prediction is the request."""
    lp = math.log10(max(predicted, 1.0))
    ln = math.log2(max(procs, 1))
    return (
        args.w_pred * lp
        + args.w_req * math.log10(max(requested, 1.0))
        + args.w_procs * ln
        + args.w_area * procs * lp / 100.0
        + args.w_logarea * lp * ln
        + args.w_age * submit / 3600.0
    )


def wait_term(args: TunedArgs, static: float, wait: float, submit: float) -> float:
    """The static key adjusted for the time waited so far, or the guard's key once the wait is too long."""
    if args.max_wait > 0.0 and wait >= args.max_wait * 3600.0:
        return STARVED + submit
    return static - args.w_wait * math.log10(1.0 + max(wait, 0.0) / 60.0)


class Tuned:
    name = "tuned"

    def __init__(self, args: TunedArgs | None = None) -> None:
        self.args = args or TunedArgs()
        if self.args.w_fit:
            raise ValueError("w_fit needs the free processors at the head choice: RLScheduler's variant only")
        self.static = self.args.static

    def key(self, job: JobSpec, estimate: float) -> float:
        req = job.requested  # a trace job without a request has its run time as its limit: never read that
        req = req if req is not None else estimate
        return tuned_key(self.args, estimate, req, job.procs, job.submit_time)

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        args = self.args
        keys = np.array(
            [
                wait_term(args, self.key(j, float(e)), ctx.now - j.submit_time, j.submit_time)
                for j, e in zip(jobs, estimates, strict=True)
            ],
            dtype=np.float64,
        )
        if args.w_fairshare:
            users = {j.user for j in jobs} | set(ctx.usage)
            share = 1.0 / max(len(users), 1)
            fs = np.array([fairshare_factor(ctx.usage.get(j.user, 0.0), ctx.total_usage, share) for j in jobs])
            keys -= args.w_fairshare * fs
        return keys

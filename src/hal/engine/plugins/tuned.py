"""A parametric priority tuned from a site's own history: weights over runtime, request, size, age, share.

key = w_pred*log10(predicted) + w_req*log10(requested) + w_procs*log2(procs)
      + w_area*procs*log10(predicted)/100 + w_age*submit_hours - w_fairshare*fairshare_factor;
smallest first. Age enters linearly through the submit time, so without fair share the key is static
(the clock term is the same for every job) and the queue stays sorted on insert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.engine.fairshare import fairshare_factor
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class TunedArgs:
    w_pred: float = 1.0
    w_req: float = 0.0
    w_procs: float = 0.0
    w_area: float = 0.0
    w_age: float = 0.0
    w_fairshare: float = 0.0

    def vector(self) -> tuple[float, ...]:
        return astuple(self)


def tuned_key(args: TunedArgs, predicted: float, requested: float, procs: int, submit: float) -> float:
    """The static part of the key; shared with the RLScheduler setup, where the prediction is the request."""
    lp = math.log10(max(predicted, 1.0))
    return (
        args.w_pred * lp
        + args.w_req * math.log10(max(requested, 1.0))
        + args.w_procs * math.log2(max(procs, 1))
        + args.w_area * procs * lp / 100.0
        + args.w_age * submit / 3600.0
    )


class Tuned:
    name = "tuned"

    def __init__(self, args: TunedArgs | None = None) -> None:
        self.args = args or TunedArgs()
        self.static = self.args.w_fairshare == 0.0

    def key(self, job: JobSpec, estimate: float) -> float:
        req = job.time_limit if job.time_limit is not None and job.time_limit > 0 else estimate
        return tuned_key(self.args, estimate, req, job.procs, job.submit_time)

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        keys = np.array([self.key(j, float(e)) for j, e in zip(jobs, estimates, strict=True)], dtype=np.float64)
        if self.args.w_fairshare:
            users = {j.user for j in jobs} | set(ctx.usage)
            share = 1.0 / max(len(users), 1)
            fs = np.array([fairshare_factor(ctx.usage.get(j.user, 0.0), ctx.total_usage, share) for j in jobs])
            keys -= self.args.w_fairshare * fs
        return keys

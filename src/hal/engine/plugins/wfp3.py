"""WFP3 (Tang et al.): (wait / estimate)^3 x processors, highest first; favours long-waiting large jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.engine.plugins.columns import waits_and_sizes
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class Wfp3Args:
    pass


class Wfp3:
    name = "wfp3"
    static = False

    def __init__(self, args: Wfp3Args | None = None) -> None:
        self.args = args or Wfp3Args()

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("wfp3 depends on the current time; use keys()")

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        wait, procs = waits_and_sizes(jobs, ctx.now)
        est = np.maximum(estimates, 1.0)
        return -((wait / est) ** 3) * procs

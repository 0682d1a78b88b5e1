"""UNICEP (Tang et al.): wait / (log2(processors) x estimate), highest first; favours small short jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.engine.plugins.columns import waits_and_sizes
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class UnicepArgs:
    pass


class Unicep:
    name = "unicep"
    static = False

    def __init__(self, args: UnicepArgs | None = None) -> None:
        self.args = args or UnicepArgs()

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("unicep depends on the current time; use keys()")

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        wait, procs = waits_and_sizes(jobs, ctx.now)
        # log2(1) = 0 would make serial jobs infinitely urgent; they are weighted like 2-processor jobs.
        size = np.log2(np.maximum(procs, 2.0))
        keys: npt.NDArray[np.float64] = -wait / (size * np.maximum(estimates, 1.0))
        return keys

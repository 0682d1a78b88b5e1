"""First come, first served: submission time orders the queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class FcfsArgs:
    pass


class Fcfs:
    name = "fcfs"
    static = True

    def __init__(self, args: FcfsArgs | None = None) -> None:
        self.args = args or FcfsArgs()

    def key(self, job: JobSpec, estimate: float) -> float:
        return job.submit_time

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return np.array([j.submit_time for j in jobs], dtype=np.float64)

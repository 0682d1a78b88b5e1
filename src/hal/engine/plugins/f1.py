"""F1 (Carastan-Santos & de Camargo, SC17): log10(estimate) x processors + 870 x log10(submit), lowest first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class F1Args:
    submit_weight: float = 870.0


class F1:
    name = "f1"
    static = True

    def __init__(self, args: F1Args | None = None) -> None:
        self.args = args or F1Args()

    def key(self, job: JobSpec, estimate: float) -> float:
        est = estimate if estimate > 0 else 0.1
        sub = job.submit_time if job.submit_time > 0 else 0.1
        return math.log10(est) * job.procs + self.args.submit_weight * math.log10(sub)

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return np.array([self.key(j, float(e)) for j, e in zip(jobs, estimates, strict=True)], dtype=np.float64)

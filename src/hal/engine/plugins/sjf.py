"""Shortest job first, by the planner's runtime estimate (not the user's limit unless that is the estimate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class SjfArgs:
    pass


class Sjf:
    name = "sjf"
    static = True

    def __init__(self, args: SjfArgs | None = None) -> None:
        self.args = args or SjfArgs()

    def key(self, job: JobSpec, estimate: float) -> float:
        return estimate

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return estimates.astype(np.float64)

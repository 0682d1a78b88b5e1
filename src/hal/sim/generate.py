"""Synthetic SWF workloads: Poisson arrivals sized to a target load, so demos and tests need no archive."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hal.sim.swf import MAX_VALUE, SwfRecord

ESTIMATE_STEPS = np.array([60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800])


@dataclass(frozen=True, slots=True)
class WorkloadShape:
    jobs: int = 2000
    procs: int = 128
    load: float = 0.7
    users: int = 40
    max_runtime: float = 36 * 3600.0
    seed: int = 1

    def __post_init__(self) -> None:
        """A load of nan made every submit time 0 (numpy's cast of nan); refuse what no workload can have."""
        for name in ("load", "max_runtime"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, not {value}")
        if self.max_runtime < 10:
            raise ValueError(f"max_runtime must be at least the shortest runtime, 10 s, not {self.max_runtime}")
        for name in ("jobs", "procs", "users"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.procs > MAX_VALUE:
            raise ValueError(f"procs must be at most {MAX_VALUE:,} (an SWF reader refuses larger fields)")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, not {self.seed}")


def generate(shape: WorkloadShape) -> list[SwfRecord]:
    """Runtimes log-uniform from 10 s to max_runtime; sizes mostly powers of two; users over-estimate."""
    rng = np.random.default_rng(shape.seed)
    n = shape.jobs
    run = np.exp(rng.uniform(np.log(10.0), np.log(shape.max_runtime), n)).round()
    log_max = int(np.log2(max(shape.procs, 1)))
    size = 2 ** rng.integers(0, log_max + 1, n)
    odd = rng.random(n) < 0.25
    size = np.where(odd, rng.integers(1, shape.procs + 1, n), size)
    size = np.minimum(size, shape.procs)
    work = float((run * size).sum())
    span = work / (shape.load * shape.procs)
    gaps = rng.exponential(span / n, n)
    submit = np.cumsum(gaps).round().astype(np.int64)
    submit -= submit[0]
    factor = rng.choice([1.0, 1.5, 2.0, 4.0, 10.0], n, p=[0.15, 0.25, 0.3, 0.2, 0.1])
    wanted = run * factor
    idx = np.minimum(np.searchsorted(ESTIMATE_STEPS, wanted), len(ESTIMATE_STEPS) - 1)
    req = np.maximum(ESTIMATE_STEPS[idx], run)
    user = rng.zipf(1.6, n) % shape.users + 1
    return [
        SwfRecord(
            i + 1,
            int(submit[i]),
            -1,
            int(run[i]),
            int(size[i]),
            -1,
            -1,
            int(size[i]),
            int(req[i]),
            -1,
            1,
            int(user[i]),
            int(user[i] % 7 + 1),
            -1,
            1,
            -1,
            -1,
            -1,
        )
        for i in range(n)
    ]

"""What a running second of a job costs its user's fair share: Slurm's TRESBillingWeights.

Without weights a job is billed its CPUs, as Slurm bills without TRESBillingWeights. With them (the profile's
``billing_weights``, Slurm's syntax: ``CPU=1.0,Mem=0.25G,GRES/gpu=2.0``) it is billed the weighted sum of what it
asks for, and a resource left out weighs nothing, as in Slurm: on a GPU cluster a 32-GPU job on 4 CPUs must weigh
more than a 32-CPU job with no GPU. ``Mem`` weighs per MB, or per GB with a ``G`` suffix (``T`` per TB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from hal.model.job import JobSpec

MEM_UNITS = {"": 1.0, "M": 1.0, "G": 1.0 / 1024, "T": 1.0 / (1024 * 1024)}  # weight per MB from the suffix


@dataclass(frozen=True, slots=True)
class Weights:
    cpu: float = 0.0
    mem_mb: float = 0.0
    gpu: float = 0.0


@lru_cache(maxsize=16)
def parse_weights(text: str) -> Weights | None:
    """``CPU=1,Mem=0.25G,GRES/gpu=2`` (names in any case); None for the empty text (bill CPUs)."""
    if not text.strip():
        return None
    got: dict[str, float] = {}
    for item in text.split(","):
        name, eq, value = item.strip().partition("=")
        key = name.strip().lower()
        if not eq or key not in ("cpu", "mem", "gres/gpu"):
            raise ValueError(
                f"billing_weights: {item.strip()!r} is not CPU=N, Mem=N[M|G|T] or GRES/gpu=N "
                '(Slurm\'s TRESBillingWeights, e.g. "CPU=1.0,Mem=0.25G,GRES/gpu=2.0")'
            )
        if key in got:
            raise ValueError(f"billing_weights: {name.strip()} is given twice")
        value = value.strip()
        unit = value[-1:].upper() if key == "mem" and value[-1:].upper() in MEM_UNITS else ""
        try:
            weight = float(value[: len(value) - len(unit)])
        except ValueError:
            raise ValueError(f"billing_weights: {name.strip()}={value!r} is not a number") from None
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"billing_weights: {name.strip()}={value} must be a number >= 0")
        got[key] = weight * MEM_UNITS[unit] if key == "mem" else weight
    return Weights(got.get("cpu", 0.0), got.get("mem", 0.0), got.get("gres/gpu", 0.0))


def billed(weights: Weights | None, spec: JobSpec, cpus: int | None = None) -> float:
    """Units per second of ``spec`` running (``cpus``: the CPUs its allocation holds, for accounts)."""
    procs = spec.procs if cpus is None else cpus
    if weights is None:
        return float(procs)
    per = spec.per_task
    return amounts_billed(weights, procs, spec.tasks * per.mem_mb, spec.tasks * per.gpus)


def amounts_billed(weights: Weights | None, cpus: float, mem_mb: float, gpus: float) -> float:
    """The same from amounts (a restart recharges accounting records, which keep amounts, not specs)."""
    if weights is None:
        return float(cpus)
    return weights.cpu * cpus + weights.mem_mb * mem_mb + weights.gpu * gpus

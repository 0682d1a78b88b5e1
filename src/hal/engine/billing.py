"""What a running second of a job costs its user's fair share: Slurm's TRESBillingWeights.

A job is billed what its allocation holds, as Slurm bills AllocTRES (an --exclusive job its whole nodes). Without
weights that is its CPUs, as Slurm bills without TRESBillingWeights. With them (the profile's ``billing_weights``,
Slurm's syntax: ``CPU=1.0,Mem=0.25G,GRES/gpu=2.0``) it is the weighted sum, and a resource left out weighs
nothing, as in Slurm: on a GPU cluster a 32-GPU job on 4 CPUs must weigh
more than a 32-CPU job with no GPU. ``Mem`` weighs per MB, or per GB with a ``G`` suffix (``T`` per TB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

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


def billed(weights: Weights | None, spec: JobSpec, alloc: Any, cpus: int) -> float:
    """Units per second of a running job: what its allocation holds (``cpus``: the CPUs the book says it holds),
    as Slurm bills AllocTRES: an --exclusive job pays for its whole nodes, GPUs included."""
    if weights is None:
        return float(cpus)
    held = held_amounts(alloc)
    if held is None:  # a book whose record keeps no amounts: what the job asked for
        held = spec.tasks * spec.per_task.mem_mb, spec.tasks * spec.per_task.gpus
    return amounts_billed(weights, cpus, *held)


def held_amounts(alloc: Any) -> tuple[int, int] | None:
    """Memory and GPUs an allocation holds: a node book's rows, or a pool book's totals (None: neither)."""
    amounts = getattr(alloc, "amounts", None)
    if amounts is not None:
        rows = np.asarray(amounts)
        return (int(rows[:, 1].sum()), int(rows[:, 2].sum())) if rows.ndim == 2 and rows.shape[1] > 2 else None
    if isinstance(alloc, tuple) and len(alloc) > 2:
        return int(alloc[1]), int(alloc[2])
    return None


def amounts_billed(weights: Weights | None, cpus: float, mem_mb: float, gpus: float) -> float:
    """The same from amounts (a restart recharges accounting records, which keep amounts, not specs)."""
    if weights is None:
        return float(cpus)
    return weights.cpu * cpus + weights.mem_mb * mem_mb + weights.gpu * gpus

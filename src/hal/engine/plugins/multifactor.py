"""Slurm's multifactor priority: weighted age (since the job became eligible), fair share, job size, partition and
QOS, minus nice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
from hal.engine.queue import JobColumns
from hal.engine.tiers import job_value
from hal.model.job import JobSpec


@dataclass(frozen=True, slots=True)
class MultifactorArgs:
    weight_age: float = 1000.0
    weight_fairshare: float = 10000.0
    weight_jobsize: float = 1000.0
    weight_partition: float = 1000.0
    weight_qos: float = 1000.0
    max_age: float = 7 * 86400.0
    favor_small: bool = False

    def __post_init__(self) -> None:
        """Refused here, naming the key, rather than as NaN or infinite priorities inside every pass: a max_age of 0
        divides by zero, a weight of 1e308 overflows the sum."""
        for name in WEIGHTS:
            value = getattr(self, name)
            if not (number(value) and 0 <= value <= MAX_WEIGHT):
                raise ValueError(
                    f"multifactor argument {name} must be a number from 0 to {MAX_WEIGHT} (Slurm's PriorityWeight* "
                    f"are 32-bit), not {value!r}"
                )
        if not (number(self.max_age) and 0 < self.max_age < math.inf):
            raise ValueError(
                f"multifactor argument max_age must be a number of seconds > 0 (Slurm's PriorityMaxAge, 604800 for "
                f"7-0), not {self.max_age!r}"
            )


WEIGHTS = ("weight_age", "weight_fairshare", "weight_jobsize", "weight_partition", "weight_qos")
MAX_WEIGHT = 2**32 - 1  # Slurm's largest weight: each factor is in [0, 1], so their weighted sum stays finite


def number(value: object) -> bool:
    """An int or a float, not a bool (TOML's true would pass as 1)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class Multifactor:
    name = "multifactor"
    static = False

    def __init__(self, args: MultifactorArgs | None = None) -> None:
        self.args = args or MultifactorArgs()

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("multifactor depends on time and usage; use keys()")

    def priorities(self, jobs: Sequence[JobSpec], ctx: Context) -> npt.NDArray[np.float64]:
        cols: JobColumns | None = getattr(jobs, "columns", None)
        if cols is not None:
            return self.priorities_of(cols, ctx)
        parts = self.factors(jobs, ctx)
        total: npt.NDArray[np.float64] = sum(parts.values(), np.zeros(len(jobs)))
        return total

    def factors(self, jobs: Sequence[JobSpec], ctx: Context) -> dict[str, npt.NDArray[np.float64]]:
        """Each weighted part of the priority (sprio's columns; nice counts negatively), summing to it. Age counts
        from the later of submission and --begin (a queue's columns also know releases and dependencies met)."""
        a = self.args
        submit = np.fromiter((eligible_of(j) for j in jobs), dtype=np.float64, count=len(jobs))
        procs = np.fromiter((j.procs for j in jobs), dtype=np.float64, count=len(jobs))
        nice = np.fromiter((j.nice for j in jobs), dtype=np.float64, count=len(jobs))
        age = age_factor(ctx.now - submit, a.max_age)
        size = np.clip(procs / max(ctx.total_cpus, 1), 0.0, 1.0)
        if a.favor_small:
            size = 1.0 - size
        users = [j.user for j in jobs]
        shares = fairshare_factors(set(users), ctx)
        fs = np.fromiter((shares[u] for u in users), dtype=np.float64, count=len(jobs))
        prio = ctx.partition_priority
        part = np.fromiter((job_value(j.partition, prio, 1.0) for j in jobs), np.float64, len(jobs))
        qos = np.fromiter((ctx.qos_priority.get(j.qos, 0.0) for j in jobs), np.float64, len(jobs))
        return {
            "age": a.weight_age * age,
            "fairshare": a.weight_fairshare * fs,
            "jobsize": a.weight_jobsize * size,
            "partition": a.weight_partition * part,
            "qos": a.weight_qos * qos,
            "nice": -nice,
        }

    def priorities_of(self, cols: JobColumns, ctx: Context) -> npt.NDArray[np.float64]:
        """The same priorities from the queue's columns: per-user work is done once per distinct user."""
        a = self.args
        age = age_factor(ctx.now - (cols.submit if cols.eligible is None else cols.eligible), a.max_age)
        size = np.clip(cols.procs / max(ctx.total_cpus, 1), 0.0, 1.0)
        if a.favor_small:
            size = 1.0 - size
        names = cols.names
        present = _present(cols.user, len(names))
        users = [names[c] for c in present]
        shares = fairshare_factors(set(users), ctx)
        fs = _lookup(cols.user, present, [shares[u] for u in users])
        part = _lookup_names(cols.partition, names, ctx.partition_priority, 1.0)  # 1.0 everywhere without tiers
        qos = _lookup_names(cols.qos, names, ctx.qos_priority, 0.0)
        return (
            a.weight_age * age
            + a.weight_fairshare * fs
            + a.weight_jobsize * size
            + a.weight_partition * part
            + a.weight_qos * qos
            - cols.nice
        )

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return -self.priorities(jobs, ctx)


def eligible_of(job: JobSpec) -> float:
    """Since when a job could start, as far as its spec tells: its submission or its --begin, whichever is later."""
    return max(job.submit_time, job.begin_time if job.begin_time is not None else -math.inf)


def age_factor(waited: npt.NDArray[np.float64], max_age: float) -> npt.NDArray[np.float64]:
    """Slurm's age factor, the wait over PriorityMaxAge capped at 1: capped before dividing, so a tiny max_age
    (5e-324) gives 1 instead of overflowing to inf with numpy's RuntimeWarning on the terminal (QA)."""
    capped: npt.NDArray[np.float64] = np.clip(waited, 0.0, max_age) / max_age
    return capped


def _present(codes: npt.NDArray[np.intp], n: int) -> list[int]:
    """The distinct codes in ``codes`` (a count per code is cheaper than sorting)."""
    present: list[int] = np.flatnonzero(np.bincount(codes, minlength=n)).tolist()
    return present


def _lookup(codes: npt.NDArray[np.intp], present: list[int], values: list[float]) -> npt.NDArray[np.float64]:
    table = np.zeros(max(present) + 1 if present else 1, dtype=np.float64)
    table[present] = values
    out: npt.NDArray[np.float64] = table[codes]
    return out


def _lookup_names(
    codes: npt.NDArray[np.intp], names: list[str], values: dict[str, float], default: float
) -> npt.NDArray[np.float64]:
    present = _present(codes, len(names))
    return _lookup(codes, present, [job_value(names[c], values, default) for c in present])


def fairshare_factors(users: set[str], ctx: Context) -> dict[str, float]:
    """Slurm's classic 2^(-U/S) per user, each user (queued now or with usage) holding an equal share S."""
    share = 1.0 / max(len(users | set(ctx.usage)), 1)
    total = ctx.total_usage
    return {u: 1.0 if total <= 0 else float(2.0 ** (-(ctx.usage.get(u, 0.0) / total) / share)) for u in users}

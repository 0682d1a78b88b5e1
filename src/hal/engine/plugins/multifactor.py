"""Slurm's multifactor priority: weighted age, fair share, job size, partition and QOS, minus nice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hal.engine.api import Context
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


class Multifactor:
    name = "multifactor"
    static = False

    def __init__(self, args: MultifactorArgs | None = None) -> None:
        self.args = args or MultifactorArgs()

    def key(self, job: JobSpec, estimate: float) -> float:
        raise TypeError("multifactor depends on time and usage; use keys()")

    def priorities(self, jobs: Sequence[JobSpec], ctx: Context) -> npt.NDArray[np.float64]:
        a = self.args
        submit = np.fromiter((j.submit_time for j in jobs), dtype=np.float64, count=len(jobs))
        procs = np.fromiter((j.procs for j in jobs), dtype=np.float64, count=len(jobs))
        nice = np.fromiter((j.nice for j in jobs), dtype=np.float64, count=len(jobs))
        age = np.clip((ctx.now - submit) / a.max_age, 0.0, 1.0)
        size = np.clip(procs / max(ctx.total_cpus, 1), 0.0, 1.0)
        if a.favor_small:
            size = 1.0 - size
        users = [j.user for j in jobs]
        n_users = max(len(set(users) | set(ctx.usage)), 1)
        total = ctx.total_usage
        share = 1.0 / n_users
        factors: dict[str, float] = {}
        for user in set(users):
            used = ctx.usage.get(user, 0.0)
            factors[user] = 1.0 if total <= 0 else float(2.0 ** (-(used / total) / share))
        fs = np.fromiter((factors[u] for u in users), dtype=np.float64, count=len(jobs))
        part = np.fromiter((ctx.partition_priority.get(j.partition, 1.0) for j in jobs), np.float64, len(jobs))
        qos = np.fromiter((ctx.qos_priority.get(j.qos, 0.0) for j in jobs), np.float64, len(jobs))
        return (
            a.weight_age * age
            + a.weight_fairshare * fs
            + a.weight_jobsize * size
            + a.weight_partition * part
            + a.weight_qos * qos
            - nice
        )

    def keys(
        self, jobs: Sequence[JobSpec], estimates: npt.NDArray[np.float64], ctx: Context
    ) -> npt.NDArray[np.float64]:
        return -self.priorities(jobs, ctx)

"""Resource vectors (cpus, memory, gpus, named extras) and their arithmetic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

BASE_NAMES: tuple[str, ...] = ("cpus", "mem_mb", "gpus")


@dataclass(frozen=True, slots=True)
class Resources:
    """An amount of each resource; extras are named countable resources (licenses, GPU kinds, ...)."""

    cpus: int = 0
    mem_mb: int = 0
    gpus: int = 0
    extras: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in (("cpus", self.cpus), ("mem_mb", self.mem_mb), ("gpus", self.gpus)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        for name, value in self.extras.items():
            if value < 0:
                raise ValueError(f"extra resource {name!r} must be >= 0, got {value}")

    def get(self, name: str) -> int:
        if name in BASE_NAMES:
            return int(getattr(self, name))
        return int(self.extras.get(name, 0))

    def names(self) -> tuple[str, ...]:
        return BASE_NAMES + tuple(sorted(self.extras))

    def __add__(self, other: Resources) -> Resources:
        keys = set(self.extras) | set(other.extras)
        return Resources(
            self.cpus + other.cpus,
            self.mem_mb + other.mem_mb,
            self.gpus + other.gpus,
            {k: self.extras.get(k, 0) + other.extras.get(k, 0) for k in keys},
        )

    def scaled(self, factor: int) -> Resources:
        return Resources(
            self.cpus * factor,
            self.mem_mb * factor,
            self.gpus * factor,
            {k: v * factor for k, v in self.extras.items()},
        )

    def fits_in(self, other: Resources) -> bool:
        """True when every component of self is <= the same component of other."""
        if self.cpus > other.cpus or self.mem_mb > other.mem_mb or self.gpus > other.gpus:
            return False
        return all(v <= other.extras.get(k, 0) for k, v in self.extras.items())


@dataclass(frozen=True, slots=True)
class ResourceSpace:
    """The ordered resource names of one cluster, so resources become numpy vectors."""

    names: tuple[str, ...] = BASE_NAMES

    @staticmethod
    def covering(*amounts: Resources) -> ResourceSpace:
        extras: set[str] = set()
        for amount in amounts:
            extras.update(amount.extras)
        return ResourceSpace(BASE_NAMES + tuple(sorted(extras)))

    def vector(self, amount: Resources) -> npt.NDArray[np.int64]:
        unknown = set(amount.extras) - set(self.names)
        if any(amount.extras[k] > 0 for k in unknown):
            raise ValueError(f"resources {sorted(unknown)} do not exist on this cluster")
        return np.array([amount.get(n) for n in self.names], dtype=np.int64)

    def resources(self, vector: npt.NDArray[np.int64]) -> Resources:
        values = {n: int(v) for n, v in zip(self.names, vector, strict=True)}
        extras = {n: values[n] for n in self.names[len(BASE_NAMES) :]}
        return Resources(values["cpus"], values["mem_mb"], values["gpus"], extras)

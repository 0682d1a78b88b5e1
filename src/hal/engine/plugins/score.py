"""The one placement score: how topology distance, bytes to move and fragmentation left are weighed."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class PlacementWeights:
    """Weights of the cost parts (each part is normalized to [0, 1]; lower total cost wins).

    ``topology`` weighs the highest level a job spans, ``data`` the stage-in cost of its inputs (seconds
    plus egress dollars turned into seconds by ``dollars_per_hour``), ``fragmentation`` the share of the
    chosen domain's free room left over (best fit). The defaults let topology dominate, as Slurm does.
    """

    topology: float = 1.0
    data: float = 0.5
    fragmentation: float = 0.1
    dollars_per_hour: float = 10.0  # what an hour of waiting for data is worth, to weigh egress against time

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"placement weight {f.name} must be >= 0")

    @staticmethod
    def from_mapping(data: dict[str, Any]) -> PlacementWeights:
        allowed = {f.name for f in fields(PlacementWeights)}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown placement weights {sorted(unknown)}; allowed: {sorted(allowed)}")
        return PlacementWeights(**{k: float(v) for k, v in data.items()})

    @staticmethod
    def from_toml(text: str) -> PlacementWeights:
        """The ``[placement]`` table of a profile file (absent: defaults)."""
        return PlacementWeights.from_mapping(dict(tomllib.loads(text).get("placement", {})))


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """One candidate placement's cost, part by part, as `hal explain` shows it."""

    level: str
    leaves: int
    topology: float
    data_seconds: float
    bytes_to_move: float
    egress_dollars: float
    data: float
    fragmentation: float
    total: float
    nodes: tuple[int, ...] = ()  # the node rows it places on, which `hal explain` names

    def as_dict(self) -> dict[str, float | int | str | list[int]]:
        return {f.name: list(self.nodes) if f.name == "nodes" else getattr(self, f.name) for f in fields(self)}


def combine(weights: PlacementWeights, topology: float, data: float, fragmentation: float) -> float:
    return weights.topology * topology + weights.data * data + weights.fragmentation * fragmentation

"""The one placement score: how topology distance, bytes to move and fragmentation left are weighed."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class PlacementWeights:
    """Weights of the cost parts (each part is normalized to [0, 1]; lower total cost wins).

    ``topology`` weighs the highest level a job spans, ``data`` the stage-in cost of its inputs (seconds
    plus egress dollars turned into seconds by the transfer model, locality.TransferModel), ``fragmentation``
    the share of the chosen domain's free room left over (best fit). The defaults let topology dominate, as
    Slurm does.
    """

    topology: float = 1.0
    data: float = 0.5
    fragmentation: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < math.inf):
                raise ValueError(f"placement weight {f.name} must be a number >= 0, not {value!r}")

    @staticmethod
    def from_mapping(data: dict[str, Any]) -> PlacementWeights:
        """A profile's ``[placement]`` table: unknown keys are refused by name (a misspelt weight did nothing)."""
        allowed = {f.name for f in fields(PlacementWeights)}
        if "dollars_per_hour" in data:  # it was accepted here and read by nothing (QA)
            raise ValueError(
                "[placement] dollars_per_hour is not a placement weight: set it in the cluster file's [data] table "
                "(the egress dollars worth an hour of stage-in, 10 by default), next to egress_per_gb, and weigh "
                "the data cost with [placement] data"
            )
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown placement weights {sorted(unknown)}; allowed: {sorted(allowed)}")
        got = PlacementWeights(**data)  # checked as given: float(True) or float("2") passed before
        return PlacementWeights(**{f.name: float(getattr(got, f.name)) for f in fields(got)})

    @staticmethod
    def from_toml(text: str) -> PlacementWeights:
        """The ``[placement]`` table of a profile file (absent: defaults)."""
        return PlacementWeights.from_mapping(dict(tomllib.loads(text).get("placement", {})))

    @property
    def level_first(self) -> bool:
        """Whether, without data costs, the lowest level that fits wins before the total is looked at (Slurm's
        rule, as the defaults place). It holds while fragmentation weighs at most a tenth of topology: the total
        alone let a tree deeper than ten levels trade a level for less fragmentation with the defaults. Compared
        with a tolerance: 0.07 * 10 is 0.7000000000000001, so weights in exactly the default ratio lost the rule."""
        ten = self.fragmentation * 10
        return ten <= self.topology or math.isclose(ten, self.topology, rel_tol=1e-9)

    def formula(self) -> str:
        """How `hal explain`'s total adds up: its columns are the unweighted parts (QA: they did not add up)."""
        rule = "; without data costs the lowest level that fits wins first" if self.level_first else ""
        return f"total = {self.topology:g} x topology + {self.data:g} x data + {self.fragmentation:g} x frag{rule}"


def topology_part(level: int, lo: int, top: int) -> float:
    """The topology part of a placement spanning ``level`` (0 one node, 1 one leaf, ...) for a job that may span
    levels ``lo`` (its --segment's block level, else 0) to ``top`` (its required level, block aggregation or one
    fabric): 0 at lo, 1 at top. The selector ranks candidates by it and `hal explain` shows it, so the two agree;
    normalised to the whole tree instead, it shrank for capped jobs and data cost outweighed it more."""
    return max(0, level - lo) / max(1, top - lo)


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
    weights: PlacementWeights | None = None  # what ``total`` weighed the parts by, which `hal explain` shows

    def as_dict(self) -> dict[str, float | int | str | list[int] | dict[str, float] | None]:
        got: dict[str, float | int | str | list[int] | dict[str, float] | None] = {
            f.name: getattr(self, f.name) for f in fields(self)
        }
        got["nodes"] = list(self.nodes)
        w = self.weights
        got["weights"] = (
            None if w is None else {"topology": w.topology, "data": w.data, "fragmentation": w.fragmentation}
        )
        return got


def combine(weights: PlacementWeights, topology: float, data: float, fragmentation: float) -> float:
    return weights.topology * topology + weights.data * data + weights.fragmentation * fragmentation

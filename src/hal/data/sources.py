"""Which copy of a dataset a stage-in reads first: another node's cache before storage, the origin last."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hal.data.catalog import Replica
from hal.model.topology import Topology

SourceOrder = Callable[[list[Replica], str], list[Replica]]


def default_order(replicas: list[Replica], node: str) -> list[Replica]:
    """Other nodes' caches first (inside the cluster), then storage, the origin last."""
    return sorted(replicas, key=lambda r: (r.location == "origin", "=" in r.location, r.location))


def nearest_first(topology: Topology, names: Sequence[str]) -> SourceOrder:
    """Other nodes' caches nearest the destination first (its rack before another rack), as the placement score
    prices the copy; then storage, the origin last. (By name, a copy crossed racks beside a same-rack one.)"""
    index = {n: i for i, n in enumerate(names)}

    def order(replicas: list[Replica], node: str) -> list[Replica]:
        here = index.get(node)

        def far(rep: Replica) -> int:
            there = index.get(rep.location)
            return topology.distance(here, there) if here is not None and there is not None else 1 << 20

        return sorted(replicas, key=lambda r: (r.location == "origin", "=" in r.location, far(r), r.location))

    return order

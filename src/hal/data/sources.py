"""Which copy of a dataset a stage-in reads first: the cheapest as the placement score prices it, the nearest of
equal ones, the origin last."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hal.data.catalog import Replica
from hal.model.topology import Topology

if TYPE_CHECKING:
    from hal.engine.plugins.locality import Locality, Source

SourceOrder = Callable[[list[Replica], str], list[Replica]]


def default_order(replicas: list[Replica], node: str) -> list[Replica]:
    """Other nodes' caches first (inside the cluster), then storage, the origin last."""
    return sorted(replicas, key=lambda r: (r.location == "origin", "=" in r.location, r.location))


def nearest_first(topology: Topology, names: Sequence[str]) -> SourceOrder:
    """The copies nearest the destination first, counted in topology levels as the placement score prices the copy:
    another node's cache in its rack before one in another rack, a copy in the node's own site (a node's cache or
    storage) before one in the other site, which pays egress; a storage copy named by a plain name, which the
    topology does not place, after those; the origin last. QA: every cache came before any storage copy, so an
    on-premises job read a cloud node's cache over the WAN beside the site's own storage copy, and storage copies
    were tried by name (``tier1=cloud`` before ``tier1=onprem``)."""
    index = {n: i for i, n in enumerate(names)}
    levels = {name: k for k, name in enumerate(topology.levels)}
    prefix = {(k, path[k]): path[: k + 1] for path in topology.paths for k in range(len(path))}  # domain -> its path

    def order(replicas: list[Replica], node: str) -> list[Replica]:
        here = index.get(node)

        def far(rep: Replica) -> int:
            if here is None:
                return 1 << 20
            there = index.get(rep.location)
            if there is not None:
                return topology.distance(here, there)
            level, sep, label = rep.location.partition("=")
            domain = prefix.get((levels.get(level, -1), label)) if sep else None
            if domain is None:
                return 1 << 20
            path, depth = topology.paths[here], len(topology.paths[here])
            for i, name in enumerate(domain):
                if path[i] != name:
                    return depth - i + 1  # the common domain is above the one they differ in
            return depth - len(domain) + 1  # inside the node's own domain: over that domain's network

        return sorted(replicas, key=lambda r: (r.location == "origin", far(r), "=" in r.location, r.location))

    return order


def cheapest_first(topology: Topology, names: Sequence[str], locality: Locality) -> SourceOrder:
    """The copies by what reading each into the destination costs, as the placement score prices it (seconds plus
    egress as seconds, ``Locality.copy_cost``): the copy the score counted on is the one read, and equal ones in
    ``nearest_first``'s order (the origin last). The origin, which the topology does not place, costs the farthest
    transfer without egress. QA: an on-site job read a priced cloud mirror beside the unpriced origin."""
    index = {n: i for i, n in enumerate(names)}
    nearest = nearest_first(topology, names)

    def source(location: str) -> Source:
        if location in index:
            return index[location]
        level, sep, label = location.partition("=")
        return locality.storage_domain(level, label) if sep else None

    def order(replicas: list[Replica], node: str) -> list[Replica]:
        here = index.get(node)
        ranked = nearest(replicas, node)
        if here is None:
            return ranked
        return sorted(ranked, key=lambda r: locality.copy_cost(r.dataset, source(r.location), here))  # stable

    return order

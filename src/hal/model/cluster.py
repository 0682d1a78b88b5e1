"""Nodes, partitions and the columnar node table the engine works on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hal.model.resources import Resources, ResourceSpace
from hal.model.topology import Topology


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    capacity: Resources
    features: tuple[str, ...] = ()
    partitions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Partition:
    """A named set of nodes with its own limits and priority, as in Slurm."""

    name: str
    nodes: tuple[str, ...]
    max_time: float | None = None
    priority_tier: int = 1
    default: bool = False


@dataclass(frozen=True, slots=True)
class Cluster:
    """A whole machine: its nodes, partitions and topology. Immutable; free resources live elsewhere."""

    nodes: tuple[Node, ...]
    partitions: tuple[Partition, ...] = ()
    topology: Topology | None = None
    name: str = "cluster"

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ValueError("a cluster needs at least one node")
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError("node names must be unique")
        known = set(names)
        for part in self.partitions:
            missing = [n for n in part.nodes if n not in known]
            if missing:
                raise ValueError(f"partition {part.name!r} names unknown nodes {missing[:5]}")
        if self.topology is not None and len(self.topology.paths) != len(self.nodes):
            raise ValueError("topology must give one path per node")

    @staticmethod
    def uniform(n_nodes: int, per_node: Resources, name: str = "cluster", prefix: str = "n") -> Cluster:
        """A cluster of identical nodes in one default partition."""
        width = max(3, len(str(n_nodes - 1)))
        nodes = tuple(Node(f"{prefix}{i:0{width}d}", per_node, partitions=("batch",)) for i in range(n_nodes))
        part = Partition("batch", tuple(n.name for n in nodes), default=True)
        return Cluster(nodes, (part,), Topology.flat(n_nodes), name)

    @property
    def space(self) -> ResourceSpace:
        return ResourceSpace.covering(*(n.capacity for n in self.nodes))

    def partition(self, name: str) -> Partition:
        for part in self.partitions:
            if part.name == name:
                return part
        raise KeyError(f"unknown partition {name!r}; known: {[p.name for p in self.partitions]}")

    def default_partition(self) -> Partition | None:
        for part in self.partitions:
            if part.default:
                return part
        return self.partitions[0] if self.partitions else None

    def total(self) -> Resources:
        acc = Resources()
        for node in self.nodes:
            acc = acc + node.capacity
        return acc


@dataclass(slots=True)
class NodeTable:
    """Columnar view of the nodes: capacity and free resources as (nodes x resources) int arrays."""

    space: ResourceSpace
    names: tuple[str, ...]
    capacity: npt.NDArray[np.int64]
    free: npt.NDArray[np.int64]
    partition_masks: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    feature_masks: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    partition_tiers: dict[str, int] = field(default_factory=dict)  # PriorityTier per partition; "": the default's

    @staticmethod
    def of(cluster: Cluster) -> NodeTable:
        space = cluster.space
        cap = np.stack([space.vector(n.capacity) for n in cluster.nodes])
        index = {n.name: i for i, n in enumerate(cluster.nodes)}
        parts: dict[str, npt.NDArray[np.bool_]] = {}
        for part in cluster.partitions:
            mask = np.zeros(len(cluster.nodes), dtype=bool)
            mask[[index[n] for n in part.nodes]] = True
            parts[part.name] = mask
        feats: dict[str, npt.NDArray[np.bool_]] = {}
        for i, node in enumerate(cluster.nodes):
            for feat in node.features:
                feats.setdefault(feat, np.zeros(len(cluster.nodes), dtype=bool))[i] = True
        tiers = {p.name: p.priority_tier for p in cluster.partitions}
        default = cluster.default_partition()
        if default is not None:
            tiers[""] = default.priority_tier  # a job naming no partition runs in the default one
        return NodeTable(space, tuple(n.name for n in cluster.nodes), cap, cap.copy(), parts, feats, tiers)

    def __len__(self) -> int:
        return len(self.names)

    def nodelist(self, indices: Sequence[int]) -> str:
        return ",".join(self.names[i] for i in indices)

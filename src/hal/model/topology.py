"""The tree of named domains (site > zone > block/rack > switch > node) and distances between nodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

LEVELS: tuple[str, ...] = ("site", "zone", "block", "switch", "node")


@dataclass(frozen=True, slots=True)
class Topology:
    """Each node's path of domain names from the root down to its leaf switch.

    Distance between two nodes is the number of levels one must climb from the leaf to reach a
    common domain: 0 on the same node, 1 under the same switch, up to ``len(levels)``.
    """

    levels: tuple[str, ...]
    paths: tuple[tuple[str, ...], ...]
    connected: bool = True  # False: the top-level domains are separate fabrics no job may span (Slurm's tree)
    outside: frozenset[int] = frozenset()  # nodes topology.conf lists under no switch (or block): each is alone,
    # its own domain at every level (a fabric of one node), so no job spans it and another node
    block_nodes: tuple[int, ...] = ()  # topology/block: each level's size in nodes (BlockSizes, top first); a
    # job of N nodes stays inside one domain of the smallest level of at least N (Slurm's eval_nodes_block)
    names_from: str = field(default="", compare=False)  # where the level names come from, for a user who
    # names a level that is not there (an imported topology.conf's are HAL's: switch, tier1, ...; block, block8, ...)

    @property
    def outside_of(self) -> str:
        """What the nodes of ``outside`` are in none of: ``switch`` (topology/tree) or ``block`` (topology/block)."""
        return "block" if self.levels and self.levels[-1] == "block" else "switch"

    def __post_init__(self) -> None:
        for path in self.paths:
            if len(path) != len(self.levels):
                raise ValueError(f"topology path {path} does not have one name per level {self.levels}")

    @staticmethod
    def flat(n_nodes: int) -> Topology:
        one = "no topology (a cluster file without a [topology] table): one switch holds every node"
        return Topology(("switch",), tuple(("sw0",) for _ in range(n_nodes)), names_from=one)

    @staticmethod
    def tree(n_nodes: int, fanouts: Sequence[int], levels: Sequence[str]) -> Topology:
        """A regular tree: fanouts[i] children per domain at level i, nodes filling leaves in order."""
        if len(fanouts) != len(levels):
            raise ValueError("one fanout per level")
        paths = []
        for node in range(n_nodes):
            rest = node
            names = []
            for fan in reversed(fanouts):
                rest //= fan
                names.append(rest)
            path = []
            for level, idx in zip(levels, reversed(names), strict=True):
                path.append(f"{level}{idx}")
            paths.append(tuple(path))
        return Topology(tuple(levels), tuple(paths))

    def leaf(self, node: int) -> str:
        return self.paths[node][-1]

    def distance(self, a: int, b: int) -> int:
        if a == b:
            return 0
        pa, pb = self.paths[a], self.paths[b]
        depth = len(pa)
        for i in range(depth):
            if pa[i] != pb[i]:
                return depth - i + 1  # the common domain is above the one they differ in
        return 1 if depth else 0

    def span(self, nodes: Sequence[int]) -> tuple[int, int]:
        """(number of leaf domains used, highest level spanned as a distance)."""
        if not nodes:
            return (0, 0)
        leaves = {self.leaf(n) for n in nodes}
        first = nodes[0]
        return (len(leaves), max(self.distance(first, n) for n in nodes))

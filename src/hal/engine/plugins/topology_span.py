"""The largest domain a job may span: never two separate fabrics (nodes topology.conf lists under no switch or
block are each a fabric of one node, topology_conf._outside), and on topology/block the smallest aggregation of
blocks that holds the job's nodes, as Slurm's eval_nodes_block places it. What a refusal says of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.plugins.topology import TopoIndex


def block_cap(ix: TopoIndex, req: Request) -> int | None:
    """The highest level a -N job may span on topology/block: the smallest aggregation whose size (the base block
    size times its blocks) holds its nodes, as Slurm's _get_block_level picks it (a 3-node job on 2-node blocks
    takes an aligned pair, never a larger group). None: no limit (a tree, a job without -N or with --segment, or
    one larger than every aggregation, which the largest domain it may span bounds)."""
    if not ix.nominal or not req.nodes or (req.segment or 0) > 1:
        return None
    fits = [lvl for lvl, name in enumerate(ix.names) if ix.nominal.get(name, 0) >= req.nodes]
    return min(fits[0], ix.span_top) if fits else None


def block_room(ix: TopoIndex, req: Request, room: npt.NDArray[np.int64], cap: int | None) -> npt.NDArray[np.int64]:
    """Within a domain of the aggregation ``cap`` (or all the blocks), a -N job uses at most ceil(N / size) of the
    next smaller aggregations, as Slurm's eval_nodes_block bounds it (max_llblock): only the roomiest that many
    of each domain keep their room, so a 6-node job on 4-node groups takes two, or waits; it spread over three."""
    if cap is None or cap < 2 or not req.nodes:
        return room
    size = ix.nominal.get(ix.names[cap - 1], 0)
    if size <= 0:
        return room
    keep = -(-req.nodes // size)
    croom = np.bincount(ix.ids[cap - 1], weights=room, minlength=ix.counts[cap - 1])
    parent = ix.parent[cap - 1]
    order = np.lexsort((-croom, parent))  # each domain's children, roomiest first
    first = np.searchsorted(parent[order], parent[order], side="left")  # where each one's domain starts
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    return np.where(rank[ix.ids[cap - 1]] < keep, room, 0)


def span_refusal(
    ix: TopoIndex, room: npt.NDArray[np.int64], units: int, what: str, names: Sequence[str], cap: int | None = None
) -> str | None:
    """A job larger than every domain it may span (separate fabrics, the aggregation of blocks its size calls for,
    all the blocks of topology/block); when nodes in no switch or block are among those it may use, say they are
    each apart (`-N2 -w c[07-08]` on two such nodes was told it "needs 2 nodes within one tier1", a level they are
    not in)."""
    level = ix.span_top if cap is None else cap
    biggest = int(ix.sums(level, room).max())
    if biggest >= units:
        return None
    said = (
        f"needs {units} {what} within the blocks of topology.conf, and they hold {biggest}"
        if ix.names[level] == "blocks" and ix.outside_of == "block"
        else f"needs {units} {what} within one {ix.names[level]}, the largest domain a job may span (as in Slurm: "
        f"separate switch fabrics, or all the blocks); the largest has {biggest}"
        if cap is None or cap == ix.span_top
        else f"needs {units} {what} within one {ix.names[level]}, the smallest aggregation of blocks that holds "
        f"{units} nodes (as in Slurm's topology/block); the largest has {biggest}"
    )
    usable = room > 0
    alone = np.flatnonzero(usable & ix.alone)
    if alone.size == 0:
        return said
    kind = ix.outside_of
    apart, domain = ("fabric", "switch fabric") if kind == "switch" else ("block", "block aggregation")
    listed = [names[int(i)] for i in alone[:4]] if len(names) == ix.n else []  # (the engine has no hostlists)
    more = f" and {alone.size - len(listed)} more" if listed and alone.size > len(listed) else ""
    who = ", ".join(listed) + more if listed else f"{alone.size} node(s)"
    if not (usable & ~ix.alone).any():  # only nodes in no switch: the tree's levels are beside the point
        nodes = f"the node it may use ({who}) is" if alone.size == 1 else f"the nodes it may use ({who}) are each"
        return (
            f"needs {units} {what} in one {domain}, but {nodes} in no {kind} of topology.conf: each is a separate "
            f"{apart} of one node, and a job never spans two (as in Slurm)"
        )
    return f"{said} ({who} in no {kind} of topology.conf: each a separate {apart} of one node)"


def unknown_level(ix: TopoIndex, level: str) -> str:
    """A --topology level the cluster does not have, with the levels it has and where their names come from: an
    imported topology.conf's are HAL's own (switch, tier1, ...; block, block8, ...), met only in this error."""
    whole = "" if "cluster" in ix.names else ", and 'cluster' for the whole machine"
    origin = f" ({ix.names_from}{whole})" if ix.names_from else ""
    return f"unknown topology level {level!r}; levels are {ix.names[1:]}{origin}"

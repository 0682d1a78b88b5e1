"""The largest domain a job may span: never two separate fabrics (nodes topology.conf lists under no switch or
block are each a fabric of one node, topology_conf._outside), and on topology/block the smallest aggregation of
blocks that holds the job's nodes, as Slurm's eval_nodes_block places it (what a refusal says of them is in
topology_refusal.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.plugins.topology import TopoIndex


def named_placement(req: Request) -> bool:
    """Whether a job named its own placement, which then replaces the implicit block rule below (Slurm applies it
    to a job that asked for nothing): --segment=N places each group of N nodes in one block and the groups in any
    blocks, as Slurm's eval_nodes_block does segment by segment (--segment=1: any nodes; it waited for two in one
    block, QA); --topology required=LEVEL is one domain of that level; preferred=LEVEL (Kueue's) tries that level,
    climbs, and else spreads, an explicit yes to spreading (it waited exactly as required= would, QA)."""
    return bool(req.segment or req.topology_required or req.topology_preferred)


def block_cap(ix: TopoIndex, req: Request) -> int | None:
    """The highest level a -N job may span on topology/block: the smallest aggregation whose size (the base block
    size times its blocks) holds its nodes, as Slurm's _get_block_level picks it (a 3-node job on 2-node blocks
    takes an aligned pair, never a larger group). None: no limit (a tree, a job without -N or that named its own
    placement, or one larger than every aggregation, which the largest domain it may span bounds)."""
    if not ix.nominal or not req.nodes or named_placement(req):
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

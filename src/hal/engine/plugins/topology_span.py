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


def span_nodes(ix: TopoIndex, req: Request) -> int | None:
    """The node count the block rule sizes a job by: its -N, else the fewest nodes its tasks fit on (the largest
    of the nodes it may use first, from the capacities bound to ``ix``), as Slurm derives a job's node count from
    its tasks. QA:
    -n 4 --gpus-per-task=8 ran over two blocks while -N 4 --gpus-per-node=8 waited for one. None: not known (no
    capacities bound) or more tasks than the machine holds."""
    if req.nodes:
        return req.nodes
    if ix.capacity is None:
        return None
    where = (req.partition, req.features, req.node_names, req.exclude_nodes)
    key = (req.per_task, req.tasks, where)
    if key not in ix.fewest:  # on the nodes it may use: a partition of small nodes beside big ones (QA: refused)
        if len(ix.fewest) >= 4096:  # every distinct -w/-x list is a key: bounded, not kept for the server's life
            ix.fewest.clear()
        caps = ix.capacity if ix.eligible is None else ix.capacity[ix.eligible(req)]
        per = np.array(req.per_task, dtype=np.int64)
        used = per > 0
        fit = (caps[:, used] // per[used]).min(axis=1) if used.any() else np.zeros(0, dtype=np.int64)
        cum = np.cumsum(np.sort(fit)[::-1])
        ix.fewest[key] = int(np.searchsorted(cum, req.tasks)) + 1 if cum.size and cum[-1] >= req.tasks else None
    return ix.fewest[key]


def bind_capacity(book: object) -> None:
    """Give a book's topology index its nodes' capacities (``span_nodes`` sizes jobs without -N by them), once; a
    selector built without them (the data plane's) learns them at the engine's next submission or cycle."""
    select = getattr(book, "select", None)
    ix = getattr(getattr(select, "inner", select), "index", None)
    if ix is not None and getattr(ix, "capacity", 0) is None:
        ix.capacity = book.table.capacity  # type: ignore[attr-defined]
    if ix is not None and getattr(ix, "eligible", 0) is None:
        ix.eligible = getattr(book, "allowed", None)  # its partition, features and node lists
    if ix is not None and getattr(ix, "usable", 0) is None:
        ix.usable = getattr(book, "usable", None)  # ...and no drained node: what delay scheduling may wait for


def block_cap(ix: TopoIndex, req: Request) -> int | None:
    """The highest level a job may span on topology/block: the smallest aggregation whose size (the base block
    size times its blocks) holds its nodes (``span_nodes``: its -N, else the fewest its tasks fit on), as Slurm's
    _get_block_level picks it (a 3-node job on 2-node blocks takes an aligned pair, never a larger group). None: no
    limit (a tree, a job that named its own placement, or one larger than every aggregation, which the largest
    domain it may span bounds)."""
    if not ix.nominal or named_placement(req):
        return None
    nodes = span_nodes(ix, req)
    if nodes is None:
        return None
    fits = [lvl for lvl, name in enumerate(ix.names) if ix.nominal.get(name, 0) >= nodes]
    return min(fits[0], ix.span_top) if fits else None


def block_room(ix: TopoIndex, req: Request, room: npt.NDArray[np.int64], cap: int | None) -> npt.NDArray[np.int64]:
    """Within a domain of the aggregation ``cap`` (or all the blocks), a job of N nodes (``span_nodes``) uses at
    most ceil(N / size) of the next smaller aggregations, as Slurm's eval_nodes_block bounds it (max_llblock): only
    the roomiest that many of each domain keep their room, so a 6-node job on 4-node groups takes two, or waits; it
    spread over three."""
    if cap is None or cap < 2:
        return room
    nodes, size = span_nodes(ix, req), ix.nominal.get(ix.names[cap - 1], 0)
    if nodes is None or size <= 0:
        return room
    parent = ix.parent[cap - 1]
    keep = _keep(ix, cap, parent, nodes, -(-nodes // size))
    croom = np.bincount(ix.ids[cap - 1], weights=room, minlength=ix.counts[cap - 1])
    order = np.lexsort((-croom, parent))  # each domain's children, roomiest first
    first = np.searchsorted(parent[order], parent[order], side="left")  # where each one's domain starts
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    child = ix.ids[cap - 1]
    return np.where(rank[child] < keep[parent[child]], room, 0)


def _keep(ix: TopoIndex, cap: int, parent: npt.NDArray[np.intp], nodes: int, keep: int) -> npt.NDArray[np.int64]:
    """Per domain of ``cap``, how many children a job of ``nodes`` may use: ``keep`` from the nominal size, or more
    where short blocks make the largest ``keep`` children hold fewer nodes than the job (QA: -N 16 on blocks of
    4, 4, 3, 4, 4 under BlockSizes=4,8 was refused as never fitting, while -N 17 ran)."""
    size = np.bincount(ix.ids[cap - 1], minlength=ix.counts[cap - 1])  # nodes per child
    order = np.lexsort((-size, parent))  # each domain's children, largest first
    held = np.cumsum(size[order])
    first = np.searchsorted(parent[order], parent[order], side="left")
    within = held - np.where(first > 0, held[first - 1], 0)  # nodes in a domain's largest k children
    need = np.full(ix.counts[cap], np.iinfo(np.int64).max, dtype=np.int64)  # never enough: all its children
    enough = within >= nodes
    np.minimum.at(need, parent[order][enough], (np.arange(order.size) - first)[enough] + 1)
    return np.maximum(need, keep)

"""Slurm's -N larger than its -w list: the listed nodes are part of the allocation and the placement policy adds
the others, as sbatch does ("additional resources will be allocated on other nodes as needed"). HAL refused
`-N 2 -w vn003` (QA): a user who wants one particular node in a wider job had no way to ask for it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.nodes import NodeAlloc, NodeBook

Mask = npt.NDArray[np.bool_]


def listed_mask(book: NodeBook, req: Request) -> Mask:
    """The nodes ``req`` names (each once, however often the list repeats it)."""
    return np.isin(np.array(book.table.names), req.node_names)


def place_including(book: NodeBook, free: npt.NDArray[np.int64], req: Request, ok: Mask) -> NodeAlloc | None:
    """Every listed node (each must have room for one node's share now) and ``req.nodes`` minus their number of
    others from ``ok`` (the usable nodes with room), chosen by the book's selector or ranker as for a job of that
    many nodes; None while a listed node is busy or too few others have room (the job waits)."""
    from hal.engine.nodes import NodeAlloc

    assert req.nodes is not None
    must = listed_mask(book, req)
    if not ok[must].all():
        return None
    rest = req.nodes - int(must.sum())
    others = ok & ~must
    if int(others.sum()) < rest:
        return None
    per_node_tasks = -(-req.tasks // req.nodes)
    sub = replace(req, nodes=rest, tasks=per_node_tasks * rest, node_names=())
    if book.select is None:
        added = book.rank(sub, free, others)[:rest]
    else:
        for near in _nearest_first(getattr(book.select, "index", None), must, others, rest):
            picked = book.select.select(sub, near.astype(np.int64), rest, book.now)
            if picked is not None:
                break
        else:
            return None
        added = picked[0]
    chosen = np.sort(np.concatenate([np.flatnonzero(must), added])).astype(np.intp)
    amounts = book.table.capacity[chosen] if req.exclusive else req.node_amounts()
    return NodeAlloc(chosen, amounts)


def _nearest_first(index: object, must: Mask, others: Mask, rest: int) -> list[Mask]:
    """The nodes a topology selector may add, those sharing the listed nodes' leaf first, then each level up, so
    the added nodes sit as close to the listed ones as free room allows (Slurm's tree plugin starts from a
    job's required nodes too); the selector's own constraints (--switches, --topology) still apply to them."""
    ids = getattr(index, "ids", None)
    if ids is None:
        return [others]
    tiers: list[Mask] = []
    for level in ids[1:]:
        near = others & np.isin(level, level[must])
        if int(near.sum()) >= rest and not any((near == t).all() for t in tiers):
            tiers.append(near)
    return [*tiers, others] if not tiers or not (tiers[-1] == others).all() else tiers


def unusable_listed(book: NodeBook, req: Request, allowed: Mask) -> tuple[str, ...]:
    """The listed nodes ``req`` may never use (outside its partition, without its features, or excluded)."""
    names = book.table.names
    return tuple(names[i] for i in np.flatnonzero(listed_mask(book, req) & ~allowed).tolist())

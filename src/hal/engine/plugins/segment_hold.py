"""`hal explain`'s and `hal show`'s words for a job held by its ``--segment=N``: each group of N nodes goes in one
block (the leaf level on a tree), so free nodes scattered a few per block never start it. The why said "not within
its --segment=4 (nor the largest domain a job may span)" with 12 nodes idle inside that domain (QA): the domain was
not what held it, the blocks' free nodes were."""

from __future__ import annotations

import numpy as np

from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement_parts import room_of
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import Request


def held_by_segment(book: NodeBook, req: Request) -> str | None:
    """In words, what its segments leave it: how many it needs in which level's domains, and the most free nodes
    one such domain has (or the most whole segments one domain it may span holds). None: not such a job, it fits,
    too few free anywhere (its resources hold it), or its segments fit (something else holds it)."""
    sel = getattr(book.select, "inner", book.select)
    if not isinstance(sel, TopologySelector) or not req.segment or not req.nodes or req.nodes % req.segment:
        return None
    ix, seg, lvl = sel.index, req.segment, sel.seg_level
    room, units = room_of(book, req)
    blocked = book.blocked(req)  # what a sharing mode keeps from it (--exclusive=user or topo)
    room = room if blocked is None else np.where(blocked, 0, room)
    if int(room.sum()) < units:
        return None
    free = ix.sums(lvl, room).astype(np.int64)  # free nodes per block
    top = sel.bounds(req)[1]
    first = np.zeros(ix.counts[lvl], dtype=np.intp)
    first[ix.ids[lvl][::-1]] = np.arange(ix.n - 1, -1, -1)  # a node of each block, for the domain it is in
    within = np.bincount(ix.ids[top][first], weights=free // seg, minlength=ix.counts[top])  # segments per domain
    need, most = units // seg, int(within.max())
    if most >= need:
        return None
    block, asked = ix.names[lvl], f"{need} segments of {seg} nodes, each within one {ix.names[lvl]} (--segment={seg})"
    if int(free.max()) < seg:
        return (
            f"it needs {asked}; no {block} has {seg} free nodes now (the most free in one is {int(free.max())}), so "
            f"it waits for jobs there to end"
        )
    one = f", all within one {ix.names[top]}" if top < ix.top else ""  # separate fabrics, or a required level
    return (
        f"it needs {asked}{one}; the {block}s free now hold only {most} whole segment{'' if most == 1 else 's'}"
        f"{' in one' if one else ''}, so it waits for jobs there to end"
    )

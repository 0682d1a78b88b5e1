"""`hal explain`'s words for a job held by its ``--topology required=LEVEL`` (Kueue's required topology): how many
nodes it needs within one domain of that level, and the most one gives it now. It said only "free nodes exist,
but not within its --topology required=switch", which neither says how far it is nor that waiting is the cure."""

from __future__ import annotations

import numpy as np

from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement_parts import room_of
from hal.engine.plugins.topology import TopologySelector
from hal.engine.plugins.topology_span import block_cap, block_room
from hal.engine.request import Request


def held_by_required(book: NodeBook, req: Request) -> str | None:
    """In words, what its required level leaves it; None: not such a job, it fits, or too few are free anywhere
    (then its resources hold it, not the level)."""
    sel = getattr(book.select, "inner", book.select)
    if not isinstance(sel, TopologySelector) or not req.topology_required or req.segment:
        return None
    ix = sel.index
    level = ix.level(req.topology_required)
    if level is None:
        return None
    cap = block_cap(ix, req)
    room, units = room_of(book, req)
    blocked = book.blocked(req)  # what a sharing mode keeps from it (--exclusive=user or topo)
    room = block_room(ix, req, room if blocked is None else np.where(blocked, 0, room), cap)
    most = int(ix.sums(level, room).max())
    if most >= units or int(room.sum()) < units:
        return None
    what = "nodes" if req.nodes else "tasks"
    return (
        f"it needs {units} {what} within one {ix.names[level]} (--topology required={req.topology_required}); the "
        f"most free in one now is {most}, so it waits for jobs there to end"
    )

"""A placement's score parts as `hal explain` shows them: topology distance, data to move and fragmentation left,
on the machine as it was before the placement (engine/plugins/score.py combines them)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import NodeBook
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.score import ScoreParts, combine, topology_part
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import Request


def room_of(book: NodeBook, req: Request, lists: bool = True) -> tuple[npt.NDArray[np.int64], int]:
    """Per-node room for the request now, and the units it needs; ``lists=False``: its -w/-x lists aside, the room
    a placement's fragmentation part counts (a -w job's leaf held only its own nodes: 0, not 0.5, QA)."""
    req = req if lists else replace(req, node_names=(), exclude_nodes=())
    free, cap = book.free, book.table.capacity
    mask = book._mask(req)
    if req.exclusive:
        mask = mask & (free == cap).all(axis=1)
    if req.nodes is not None:
        return (mask & (free >= req.per_node()).all(axis=1)).astype(np.int64), req.nodes
    per = np.array(req.per_task, dtype=np.int64)
    used = per > 0
    room = (free[:, used] // per[used]).min(axis=1) if used.any() else np.zeros(len(free), dtype=np.int64)
    return np.where(mask, room, 0), req.tasks


def parts_of(
    sel: TopologySelector, req: Request, nodes: npt.NDArray[np.intp], room: npt.NDArray[np.int64]
) -> ScoreParts:
    """The score parts of placing ``req`` on ``nodes`` when the machine has ``room`` per node (before it)."""
    ix, w = sel.index, sel.args.weights
    leaves, level = ix.span(nodes)
    units = req.nodes or req.tasks
    dom = ix.ids[level][nodes[0]] if nodes.size else 0
    dom_room = float(ix.sums(level, room)[dom]) if nodes.size else 0.0
    frag = 1.0 - units / dom_room if dom_room > 0 else 0.0
    topo = topology_part(level, *sel.bounds(req))  # as the selector ranks it
    secs = moved = dollars = data = 0.0
    if isinstance(sel.data, Locality) and req.inputs and nodes.size:
        c = sel.data.costs(req.inputs)
        norm, _ = sel.data.normalized(req.inputs)
        secs, moved = float(c.seconds[nodes].max()), float(c.bytes[nodes].sum())
        dollars, data = float(c.dollars[nodes].sum()), float(norm[nodes].max())
    total = combine(w, topo, data, frag)
    chosen = tuple(int(n) for n in nodes)
    return ScoreParts(ix.names[level], leaves, topo, secs, moved, dollars, data, max(frag, 0.0), total, chosen, w)

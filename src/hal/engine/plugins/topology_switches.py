"""Whether a --switches=N job can ever fit under N leaf switches of the nodes it may use (its partition, features
and node lists, drains aside) on the empty machine: a wait that buys nothing is said as such, not blamed on load."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.topology import TopoIndex


def never_under(book: NodeBook, ix: TopoIndex, req: Request) -> int | None:
    """The most units (nodes, or tasks without -N) any N leaves of the nodes ``req`` may use hold on the empty
    machine when that is fewer than it needs, else None. Of several partitions (-p a,b), the best of them: the
    job runs in one."""
    if not req.switches:
        return None
    cap = book.table.capacity
    if req.nodes is not None:
        room = (cap >= req.per_node()).all(axis=1).astype(np.int64)
        units = req.nodes
    else:
        per = np.array(req.per_task, dtype=np.int64)
        used = per > 0
        room = (cap[:, used] // per[used]).min(axis=1) if used.any() else np.zeros(len(cap), dtype=np.int64)
        units = req.tasks
    allowed = book.allowed(req)
    masks = book.partitions_of(req.partition) if "," in req.partition else [allowed]
    most = 0
    for mask in masks:
        leaves = np.sort(ix.sums(ix.leaf, np.where(mask & allowed, room, 0)))
        most = max(most, int(leaves[-req.switches :].sum()))
    return most if most < units else None

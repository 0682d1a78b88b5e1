"""Plain delay scheduling (``[data] delay``): which data-local nodes a job waits for, and for how long.

A job waits only for data-local nodes it may use now (its -w/-x lists, partition and features, none drained) and
only when they could ever hold it (empty, within the domains it may span). QA: a job sat out the delay with every
other node idle while the nodes near its data were drained, or were two for a three-node job. The wait lasts no
longer than staging its inputs where it could start now costs (seconds plus egress priced in seconds), which the
selector records (``last_budget``, ``last_there``) for `hal explain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.request import Request

if TYPE_CHECKING:
    from hal.engine.plugins.topology import TopoIndex, TopologySelector

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def usable(ix: TopoIndex, req: Request) -> Bools:
    """The nodes ``req`` may be placed on now: its lists, partition and features, drained nodes aside (the book's,
    bound by topology_span.bind_capacity); all nodes when none is bound."""
    if ix.usable is not None:
        return ix.usable(req)
    return ix.eligible(req) if ix.eligible is not None else np.ones(ix.n, dtype=bool)


def full_room(ix: TopoIndex, req: Request) -> Ints | None:
    """Per node, the units it would give ``req`` empty (None: the capacities are not bound)."""
    cap = ix.capacity
    if cap is None:
        return None
    if req.nodes:
        return np.asarray((cap >= req.per_node()).all(axis=1), dtype=np.int64)
    per = np.array(req.per_task, dtype=np.int64)
    used = per > 0
    return (cap[:, used] // per[used]).min(axis=1) if used.any() else None


def could_hold(sel: TopologySelector, req: Request, local: Bools, units: int, top: int) -> bool:
    """Whether the nodes of ``local``, emptied, could hold ``req`` within the domains it may span (up to ``top``):
    if not, waiting for them only delays it."""
    room = full_room(sel.index, req)
    if room is None:
        return True  # not known: wait as before
    room = np.where(local, room, 0)
    return int(room.sum()) >= units and sel._pick(room, units, 0, top, None) is not None


def plain_delay(
    sel: TopologySelector, req: Request, local: Bools, room: Ints, units: int, top: int, now: float
) -> Ints | None:
    """The room ``req`` may be placed in under plain delay scheduling: the data-local nodes' when they have enough,
    else all of it; None: wait for them (within the budget)."""
    local = local & usable(sel.index, req)
    held = np.where(local, room, 0)  # data-local nodes only, for a while
    if int(held.sum()) >= units:
        return held
    if (
        local.any()
        and could_hold(sel, req, local, units, top)
        and now < req.submit + delay_budget(sel, req, local, room)
    ):
        return None
    return room


def delay_budget(sel: TopologySelector, req: Request, local: Bools, room: Ints) -> float:
    """Wait for data no longer than staging it where the job would go now costs (never past ``data_delay``): the
    nodes with room, not a busy neighbour of the data (QA: a 1 s budget, then 98 s across sites)."""
    assert sel.data is not None
    away = ~local & (room > 0) if (~local & (room > 0)).any() else ~local
    sel.last_there = None
    budget = 0.0
    if away.any():
        total = sel.data.stage_seconds(req.inputs)
        there = int(np.flatnonzero(away)[np.argmin(total[away])])
        budget, sel.last_there = float(total[there]), there
    sel.last_budget = min(sel.args.data_delay, budget) if budget >= sel.args.data_delay_min else 0.0
    return sel.last_budget

"""The placements `hal explain` offers a job besides (or before) the one it gets: only ones it could really take
(its required level, its block aggregation, its segments, one of its partitions, a topology_reserve hold)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement_parts import parts_of, room_of
from hal.engine.plugins.score import ScoreParts
from hal.engine.plugins.topology import Hold, TopoIndex, TopologySelector
from hal.engine.plugins.topology_span import block_cap, block_room
from hal.engine.request import Request

Ints = npt.NDArray[np.int64]


def alternatives(
    sel: TopologySelector, book: NodeBook, req: Request, k: int = 3, chosen: tuple[int, ...] = ()
) -> list[ScoreParts]:
    """The best ``k`` single-domain candidates at each level the request fits in right now, cheapest first;
    none is the ``chosen`` placement again, and no two take the same nodes (it listed the chosen one as the
    first alternative). Only placements the job may take: within the level it requires and, on topology/block,
    the aggregation its node count calls for (QA: a -N5 job on 4-node blocks was offered one over two 8-node
    aggregations, a block16 it may never span); with --segment, whole segments per block (QA: -N 4 --segment=2
    was offered n[02-04,06]); with -p a,b, the nodes of one of them (QA: it was offered their union)."""
    room, units = room_of(book, req)
    ix = sel.index
    top = _may_span(ix, req)
    if top is None:  # a level the cluster does not have: refused at submission
        return []
    hold = hold_on(book, req)  # a topology_reserve hold: only placements in its fewest leaves until it lapses
    out: list[ScoreParts] = []
    seen = {tuple(sorted(chosen))}
    parts = book.partitions_of(req.partition) if "," in req.partition else [np.ones(len(room), dtype=bool)]
    for mask in parts:
        where = block_room(ix, req, np.where(mask, room, 0), block_cap(ix, req))
        out += _candidates(sel, req, where, units, top, 4 * k, seen)
    out = [p for p in out if hold is None or p.leaves <= hold.leaves]
    by_level = sel.by_level(req)  # the lowest level first, then the total, as the selector ranks them
    return sorted(out, key=lambda p: (ix.names.index(p.level) if by_level else 0, p.total))[:k]


def _candidates(
    sel: TopologySelector, req: Request, room: Ints, units: int, top: int, most: int, seen: set[tuple[int, ...]]
) -> list[ScoreParts]:
    """Up to about ``most`` placements on ``room``, one domain each, lowest level first; ``seen`` grows."""
    ix, out = sel.index, []
    for lvl in range(top + 1):
        dom = ix.sums(lvl, room)
        for d in np.flatnonzero(dom >= units)[:most]:
            inside = np.where(ix.ids[lvl] == d, room, 0)
            if req.segment and req.nodes:  # as the selector places them: whole segments per block
                picked = sel._segments(inside, units, req.segment, lvl, None)
                if picked is None:
                    continue
                nodes = picked[0]
            else:
                nodes, _ = sel._fill(lvl, np.flatnonzero(inside > 0), room, units, None)
            key = tuple(sorted(int(n) for n in nodes))
            if key not in seen:
                seen.add(key)
                out.append(parts_of(sel, req, nodes, room))
        if len(out) >= most:
            break
    return out


def _may_span(ix: TopoIndex, req: Request) -> int | None:
    """The highest level a placement of ``req`` may span, as TopologySelector.select bounds it: never separate
    fabrics, at most its required level, on topology/block the smallest aggregation that holds its nodes."""
    top = ix.span_top
    if req.topology_required:
        level = ix.level(req.topology_required)
        if level is None:
            return None
        top = min(top, level)
    cap = block_cap(ix, req)
    return top if cap is None else min(top, cap)


def hold_on(book: NodeBook, req: Request) -> Hold | None:
    """The hold a profile's topology_reserve keeps on this very request now (engine/plugins/leaf_reserve.py)."""
    holds = getattr(getattr(book.select, "inner", book.select), "holds", None)
    hold = holds.get(id(req)) if holds else None
    return hold if hold is not None and hold.req is req and book.now < hold.until else None

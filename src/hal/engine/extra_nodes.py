"""EASY's extra nodes on a node book: where a backfill candidate may go without touching the nodes the
reserved head is planned on at its shadow time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hal.engine.capacity import Alloc, State
from hal.engine.nodes import NodeBook
from hal.engine.queue import Waiting

if TYPE_CHECKING:
    from hal.engine.backfill import EasyMemo

NEVER = 1 << 62  # a memo size no request reaches


def place_at(book: Any, state: State, head: Waiting, at: float) -> Alloc | None:
    """The head placed in the shadow state as it would be at its shadow time: a --switches head whose wait
    has run out by then takes any nodes (placed at the current time, its unmet constraint refused every
    candidate that outlasted it, on an idle machine too)."""
    if head.spec.switches is None:
        return book.state_place(state, head.req)
    saved = book.now
    book.now = max(at, saved)
    try:
        return book.state_place(state, head.req)
    finally:
        book.now = saved


def unpinned(cand: Waiting) -> bool:
    """Whether a failure on a node book may stand for the rest of its family or shape: the book's memo keys
    leave out -w/-x, and a job held to a few busy nodes says nothing about one free to go elsewhere (the
    converse holds: a pinned job never fits where its unpinned family does not)."""
    req = cand.req
    return not (req.node_names or req.exclude_nodes)


class Extra:
    """EASY's extra nodes on a node book: a candidate that would delay the head at its preferred spot may
    still start on the nodes the head does not need at its shadow time (Slurm's backfill plans around the
    head's nodes the same way), so work next to a topology-bound head is not held back by best fit.

    Cheap in the usual outcome, no room off the head's nodes: those are where the pass last placed the head
    (``memo.planned``, no placement of its own), the CPUs free off them are counted once per start, and while
    the head stays put a request that found no room there rules out its family's larger requests (free
    resources only shrink).
    """

    __slots__ = ("book", "cramped", "keep", "keep_of", "memo", "outside")

    def __init__(self, book: NodeBook, memo: EasyMemo) -> None:
        self.book, self.memo = book, memo
        self.keep_of: Alloc = None  # the head placement ``keep`` was built from
        self.keep = np.zeros(len(book.table), dtype=bool)  # the head's nodes at the shadow time
        self.outside = -1  # CPUs free now off ``keep`` (-1: not counted since the last start)
        self.cramped: dict[object, int] = {}  # family (and user on a SharingBook) -> smallest size with no room

    def place(self, cand: Waiting, state: State, shadow: float) -> Alloc | None:
        """Allocate ``cand`` off the head's planned nodes and keep it if the head still fits at ``shadow``
        (taken from ``state`` then); None leaves the book and the state as they were."""
        book, memo, size = self.book, self.memo, cand.size
        planned = memo.planned
        if planned is None:
            return None
        if planned is not self.keep_of:  # a late start moved the head's plan
            self.keep_of = planned
            self.keep[:] = False
            self.keep[planned.nodes] = True
            if planned.held is not None:  # an --exclusive=topo head needs the rest of its blocks free too
                self.keep[planned.held.nodes] = True
            self.outside = -1
            self.cramped.clear()
        family: object = (cand.family, cand.req.user) if book.sharing else cand.family  # see backfill._scan
        if size >= self.cramped.get(family, NEVER):
            return None
        if self.outside < 0:
            self.outside = int(book.free[~self.keep, 0].sum())
        if cand.cpus > self.outside:
            return None
        alloc = book.allocate_avoiding(cand.req, self.keep)
        if alloc is None:
            if unpinned(cand):
                self.cramped[family] = size
            return None
        book.state_sub(state, alloc)
        moved = place_at(book, state, memo.head, shadow)
        if moved is None:  # the head's placement hinged on these nodes too
            book.state_add(state, alloc)
            book.release(alloc)
            return None
        memo.planned = moved
        return alloc

"""Slurm's --exclusive=user and --exclusive=topo on a node book: whose jobs may share a node, which blocks a job keeps.

Semantics, as Slurm's controller applies them (``filter_by_node_owner``; cons_tres ``_block_by_topology`` with
topology/block's ``whole_topo``):

- ``user`` (``mcs`` too: HAL has no MCS labels, and the user is the finest label an MCS plugin gives): the job
  goes only on nodes that hold no other user's job, and while it runs its nodes take no other user's job, plain
  ones included; its own user's jobs share them. It is charged what it asked for, not whole nodes.
- ``topo``: the job goes only into blocks no job uses (the topology's ``block`` level; without one each node is
  its own block, so it gets whole nodes), and while it runs the rest of those blocks is held: no other job is
  placed there. The held nodes are not charged to it (Slurm shows them BLOCKED); every planner sees them taken.

The first request with a mode turns its NodeBook into a SharingBook (``NodeBook._shared``), so a book that never
sees one runs the plain code. A SharingBook's planning state is the free matrix plus per-node occupancy, so EASY's
shadow and conservative's timeline keep the modes in the future too. Jobs booked while the book was plain are
told to it by ``know_owners`` when it turns (a restart's plain jobs by ``restored``), so an --exclusive=user job
still shares a node with its own user's earlier jobs; only an allocation no running job owns stays unknown, which
counts as another user's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hal.engine.capacity import Book
from hal.engine.nodes import Matrix, NodeAlloc, NodeBook
from hal.engine.request import Request

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
# occupancy columns, per node: allocations of known users, the sum of their user numbers and of their squares
# (all one user iff sum**2 == squares * count), --exclusive=user allocations and the sum of their user numbers,
# and the amounts held by allocations of unknown users
CNT, SUM, SQ, OWN, OSUM, UNK = range(6)


@dataclass(slots=True)
class Shared:
    """A SharingBook's planning state: what is free on each node and who is there."""

    free: Matrix
    occ: Matrix

    def __array__(self, dtype: Any = None, copy: Any = None) -> Matrix:
        """Read as an array it is its free matrix, as a plain NodeBook's state is."""
        return self.free if dtype is None else self.free.astype(dtype)


class SharingBook(NodeBook):
    """A NodeBook that keeps --exclusive=user owners and --exclusive=topo blocks (see the module docstring)."""

    sharing = True
    occ: Matrix
    uids: dict[str, int]

    @classmethod
    def convert(cls, book: NodeBook) -> SharingBook:
        if isinstance(book, SharingBook):
            return book
        book.__class__ = cls
        assert isinstance(book, SharingBook)
        n = len(book.table)
        book.occ = np.zeros((n, 6), dtype=np.int64)
        book.occ[:, UNK] = (book.table.capacity - book.free).sum(axis=1)  # whoever runs now is unknown
        book.uids = {}
        return book

    def _shared(self) -> SharingBook:
        return self

    @property
    def block_ids(self) -> npt.NDArray[np.intp]:
        """Per node, its block (each node its own when the topology has no blocks)."""
        if self.blocks is None:
            self.blocks = np.arange(len(self.table), dtype=np.intp)
        return self.blocks

    # ---- placement ------------------------------------------------------------------------------------
    def _uid(self, user: str) -> int:
        return self.uids.setdefault(user, len(self.uids) + 1)

    def _allowed(self, free: Matrix, occ: Matrix, req: Request, mask: Mask) -> Mask:
        """``mask`` less the nodes the modes keep from ``req`` in the state (free, occ)."""
        uid = self._uid(req.user)
        if req.share == "user":  # nodes with none but its own user's jobs
            cnt = occ[:, CNT]
            mask = mask & (occ[:, UNK] == 0) & (occ[:, SUM] == uid * cnt) & (occ[:, SQ] == uid * uid * cnt)
        else:
            own = occ[:, OWN]
            if own.any():  # nodes another user's --exclusive=user job holds
                mask = mask & ~((own > 0) & (occ[:, OSUM] != uid * own))
        if req.share == "topo":  # blocks no job uses
            blocks = self.block_ids
            used = (free != self.table.capacity).any(axis=1)
            busy = np.bincount(blocks, weights=used.astype(np.float64), minlength=int(blocks.max()) + 1) > 0
            mask = mask & ~busy[blocks]
        return mask

    def _place_on(self, free: Matrix, occ: Matrix, req: Request, mask: Mask) -> NodeAlloc | None:
        alloc = self._place(free, req, self._allowed(free, occ, req, mask))
        if alloc is None:
            return None
        held = self._held(alloc) if req.share == "topo" else None
        return NodeAlloc(alloc.nodes, alloc.amounts, self._uid(req.user), req.share == "user", held)

    def _held(self, alloc: NodeAlloc) -> NodeAlloc:
        """The rest of the blocks ``alloc`` is in (all free: a topo job goes only into unused blocks)."""
        nodes = np.flatnonzero(np.isin(self.block_ids, self.block_ids[alloc.nodes])).astype(np.intp)
        amounts = self.table.capacity[nodes].copy()
        amounts[np.searchsorted(nodes, alloc.nodes)] -= alloc.amounts
        return NodeAlloc(nodes, amounts)

    def tag(self, alloc: NodeAlloc, user: str) -> NodeAlloc:
        """``alloc``, booked while its user was unknown, as its user's (the occupancy moves with it)."""
        known = NodeAlloc(alloc.nodes, alloc.amounts, self._uid(user))
        self.occ[alloc.nodes] -= _occupancy(alloc)
        self.occ[alloc.nodes] += _occupancy(known)
        return known

    def blocked(self, req: Request) -> Mask | None:
        everywhere = np.ones(len(self.table), dtype=bool)
        return ~self._allowed(self.free, self.occ, req, everywhere)

    # ---- the book now ---------------------------------------------------------------------------------
    def fits(self, req: Request) -> bool:
        return self._place_on(self.free, self.occ, req, self._mask(req)) is not None

    def allocate(self, req: Request) -> NodeAlloc | None:
        alloc = self._place_on(self.free, self.occ, req, self._mask(req))
        if alloc is not None:
            self.take(alloc)
        return alloc

    def allocate_avoiding(self, req: Request, keep: Mask) -> NodeAlloc | None:
        alloc = self._place_on(self.free, self.occ, req, self._mask(req) & ~keep)
        if alloc is not None:
            self.take(alloc)
        return alloc

    def take(self, alloc: NodeAlloc) -> None:
        _sub(self.free, self.occ, alloc)

    def release(self, alloc: NodeAlloc) -> None:
        _add(self.free, self.occ, alloc)

    def cpus_of(self, alloc: NodeAlloc) -> int:
        """What it holds in the book (the planners count it back when it ends), held nodes included."""
        held = 0 if alloc.held is None else int(alloc.held.amounts[:, 0].sum())
        return int(alloc.amounts[:, 0].sum()) + held

    # ---- planning states ------------------------------------------------------------------------------
    def _state(self, state: Any) -> Shared:
        if isinstance(state, Shared):
            return state
        occ = np.zeros((len(self.table), 6), dtype=np.int64)  # a plain state from before sharing was on
        occ[:, UNK] = (self.table.capacity - state).sum(axis=1)
        return Shared(state, occ)

    def snapshot(self) -> Shared:  # type: ignore[override]
        return Shared(self.free.copy(), self.occ.copy())

    def copy(self, state: Any) -> Shared:  # type: ignore[override]
        got = self._state(state)
        return Shared(got.free.copy(), got.occ.copy())

    def state_add(self, state: Any, alloc: NodeAlloc) -> None:
        got = self._state(state)
        _add(got.free, got.occ, alloc)

    def state_sub(self, state: Any, alloc: NodeAlloc) -> None:
        got = self._state(state)
        _sub(got.free, got.occ, alloc)

    def state_place(self, state: Any, req: Request) -> NodeAlloc | None:
        got = self._state(state)
        return self._place_on(got.free, got.occ, req, self._mask(req))

    def state_min(self, a: Any, b: Any) -> Shared:  # type: ignore[override]
        """What holds all through both states: the least free, and on each node everyone present in either
        (kept as a single user, or as unknown where two differ; an owner likewise, or owned against all)."""
        sa, sb = self._state(a), self._state(b)
        occ = np.zeros_like(sa.occ)
        solo = _union(_solo(sa.occ), _solo(sb.occ))
        one = solo > 0
        occ[one, CNT], occ[one, SUM], occ[one, SQ] = 1, solo[one], solo[one] * solo[one]
        occ[solo < 0, UNK] = 1
        owner = _union(_owner(sa.occ), _owner(sb.occ))
        occ[owner != 0, OWN], occ[owner != 0, OSUM] = 1, owner[owner != 0]
        return Shared(np.minimum(sa.free, sb.free), occ)

    def state_ok(self, state: Any) -> bool:
        return bool((self._state(state).free >= 0).all())


def _occupancy(alloc: NodeAlloc) -> Matrix:
    """What ``alloc`` adds to the occupancy of its nodes (one row for all of them, or one per node)."""
    u = alloc.uid
    if u:
        return np.array([1, u, u * u, int(alloc.owns), u if alloc.owns else 0, 0], dtype=np.int64)
    rows = np.zeros((len(alloc.nodes), 6), dtype=np.int64)
    rows[:, UNK] = alloc.amounts.sum(axis=1)
    return rows


def _sub(free: Matrix, occ: Matrix, alloc: NodeAlloc) -> None:
    free[alloc.nodes] -= alloc.amounts
    if alloc.held is not None:
        free[alloc.held.nodes] -= alloc.held.amounts
    occ[alloc.nodes] += _occupancy(alloc)


def _add(free: Matrix, occ: Matrix, alloc: NodeAlloc) -> None:
    free[alloc.nodes] += alloc.amounts
    if alloc.held is not None:
        free[alloc.held.nodes] += alloc.held.amounts
    occ[alloc.nodes] -= _occupancy(alloc)


def _solo(occ: Matrix) -> Ints:
    """Per node: 0 empty, the user number when one user's jobs alone are there, -1 several users or unknown."""
    cnt, s1, s2 = occ[:, CNT], occ[:, SUM], occ[:, SQ]
    one = s1 * s1 == s2 * cnt  # equality in Cauchy-Schwarz: every number equal
    solo = np.where(cnt == 0, 0, np.where(one, s1 // np.maximum(cnt, 1), -1))
    solo[occ[:, UNK] > 0] = -1
    return solo


def _owner(occ: Matrix) -> Ints:
    """Per node: 0 no --exclusive=user job, else its user's number (-1: owned against every user)."""
    own = occ[:, OWN]
    return np.where(own > 0, occ[:, OSUM] // np.maximum(own, 1), 0)


def _union(a: Ints, b: Ints) -> Ints:
    """Two per-node verdicts (0 none, a user, -1 everyone) over a span covering both."""
    return np.where(a == b, a, np.where(a == 0, b, np.where(b == 0, a, -1)))


class Running(Protocol):
    """What know_owners reads of a running job (engine/cycle.py's Active)."""

    alloc: Any
    released: bool

    @property
    def item(self) -> Any: ...


def know_owners(book: Book, running: Iterable[Running]) -> bool:
    """Once ``book`` shares, tell it whose the jobs running on it are (it counted them unknown when it turned):
    an --exclusive=user job may then go beside its own user's plain jobs, as in Slurm. False: not sharing yet."""
    if not isinstance(book, SharingBook):
        return False
    for act in running:
        alloc = act.alloc
        if not act.released and isinstance(alloc, NodeAlloc) and not alloc.uid:
            act.alloc = book.tag(alloc, act.item.spec.user)
    return True


def restored(book: Book, alloc: NodeAlloc, req: Request) -> NodeAlloc:
    """A running job's allocation read back from its record (nodes and amounts only) with what its mode keeps:
    its user's nodes or its blocks. A restart hands it to Scheduler.adopt through this, before the book takes
    it; a job without a mode comes back as it was (its user unknown: another user's to an --exclusive=user job).
    A block holds only what is free in it: jobs restored before it there (a cluster file's blocks redrawn) keep
    theirs, so the restart restores --exclusive=topo jobs last. A plain job restored once the book shares comes
    back as its user's."""
    if isinstance(book, SharingBook) and not req.share:
        return NodeAlloc(alloc.nodes, alloc.amounts, book._uid(req.user))
    if not req.share or not isinstance(book, NodeBook):
        return alloc
    shared = book._shared()
    held = None
    if req.share == "topo":
        block = shared._held(alloc)
        free = shared.free[block.nodes].copy()
        free[np.searchsorted(block.nodes, alloc.nodes)] -= alloc.amounts
        held = NodeAlloc(block.nodes, np.clip(np.minimum(block.amounts, free), 0, None))
    return NodeAlloc(alloc.nodes, alloc.amounts, shared._uid(req.user), req.share == "user", held)

"""Node-level placement: which nodes a job gets, chosen by whole-array filters and weighted scores."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from hal.engine.feature_refusal import featureless
from hal.engine.list_refusal import listed_refusal
from hal.engine.listed_nodes import place_including, unusable_listed
from hal.engine.never_fits import why_never
from hal.engine.partition_choice import in_order
from hal.engine.request import Request
from hal.model.cluster import NodeTable

if TYPE_CHECKING:
    from hal.engine.backfill import HeadReserver
    from hal.engine.sharing import SharingBook

Matrix = npt.NDArray[np.int64]
Ranker = Callable[[Request, Matrix, npt.NDArray[np.bool_]], npt.NDArray[np.intp]]
Picked = tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]
Mask = npt.NDArray[np.bool_]


UNPLACED = (
    '--segment and --topology need placement = "topology" in the profile: first and best fit place by node order '
    "alone and keep no segment in a block nor a job in a level's domain, so the request could not be honoured "
    "(--switches is accepted there and ignored, as Slurm without topology/tree ignores it)"
)


class Selector(Protocol):
    """Replaces the ranker: picks nodes (and units per node) from each node's room, or None to wait.

    ``room[i]`` is how many units node i can take (tasks, or 1 per usable node when the node count is
    pinned); ``now`` lets a constraint relax after a wait (Slurm's --switches maxwait).
    """

    def select(self, req: Request, room: npt.NDArray[np.int64], units: int, now: float) -> Picked | None: ...

    def why(self, req: Request, room: npt.NDArray[np.int64], units: int) -> str | None: ...


@dataclass(frozen=True, slots=True)
class NodeAlloc:
    """Nodes and the amount taken on each (rows of the resource space); the rest is for engine/sharing.py."""

    nodes: npt.NDArray[np.intp]
    amounts: Matrix
    uid: int = 0  # its user's number in a SharingBook (0: placed before sharing was on, or restored: unknown)
    owns: bool = False  # --exclusive=user: while it runs, its nodes take no other user's job
    held: NodeAlloc | None = None  # --exclusive=topo: the rest of its blocks, kept from others (not charged)


def index_order(req: Request, free: Matrix, ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """First fit: lowest node index first."""
    return np.flatnonzero(ok)


class NodeBook:
    """Free resources per node; fits and placements are vectorized over the whole table."""

    def __init__(self, table: NodeTable, ranker: Ranker = index_order, selector: Selector | None = None) -> None:
        self.table = table
        self.free: Matrix = table.free
        self.rank = ranker
        self.select = selector
        self.now = 0.0  # set by the scheduler before each cycle; only time-relaxed selector constraints read it
        self._masks: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], bool], Mask] = {}
        self._never: dict[tuple[object, ...], str | None] = {}  # impossible() by request shape
        self._parts: dict[str, list[npt.NDArray[np.bool_]]] = {}  # "a,b" -> each partition's nodes, in try order
        self.reserver: HeadReserver | None = None  # optional EASY variant (e.g. a leaf-aware reservation)
        # Without a selector: the domains no job may span (separate switch fabrics, the nodes in no block),
        # one id per node; first and best fit place a job inside one of them (None: no such limit).
        self.fabrics: npt.NDArray[np.intp] | None = None
        self.down: npt.NDArray[np.bool_] | None = None  # drained nodes: no new placement (None: none)
        self._drain_memo: dict[tuple[object, ...], bool] = {}  # shape -> only drained nodes keep it from ever fitting
        # per node, the block an --exclusive=topo job keeps to itself (placement_book sets the topology's blocks;
        # None: each node is its own, so such a job gets whole nodes)
        self.blocks: npt.NDArray[np.intp] | None = None

    fungible = False  # which nodes a job gets depends on where the free resources are
    sharing = False  # a SharingBook (engine/sharing.py): Slurm's --exclusive=user|topo are in play

    def _shared(self) -> SharingBook:
        """The first request with a sharing mode turns this book into a SharingBook (engine/sharing.py): a book
        that never sees one keeps this plain code, so jobs without the modes cost nothing more."""
        from hal.engine.sharing import SharingBook  # it subclasses this one

        return SharingBook.convert(self)

    def blocked(self, req: Request) -> npt.NDArray[np.bool_] | None:
        """Nodes a sharing mode keeps from ``req`` now (None: none; a SharingBook says which)."""
        return None

    def relaxes_at(self, req: Request) -> float | None:
        """When a time-relaxed constraint of ``req`` gives way (its --switches wait runs out), or None."""
        args = getattr(self.select, "args", None)
        if req.switches is None or args is None:
            return None
        return req.submit + float(args.switch_wait(req.switches_wait))

    @property
    def time_invariant(self) -> bool:
        """A selector may relax a constraint as time passes; plain placement depends on free resources only."""
        return self.select is None

    def memo_key(self, req: Request) -> tuple[object, int]:
        """Without a selector a placement exists iff enough nodes (or task slots) have room: monotone in size.
        The family holds everything that decides which nodes may be used, -w/-x too: one job held to busy
        nodes (or kept off free ones) says nothing about another that may go elsewhere."""
        if req.share:
            self._shared()  # Scheduler.submit asks every job's impossible() and memo_key() before placing it
        if self.select is not None:
            return req.shape, 0
        where = (req.partition, req.features, req.node_names, req.exclude_nodes)
        mode = (req.share, req.user if req.share == "user" else "")
        if req.nodes is None:
            return ("tasks", req.per_task, req.exclusive, *where, *mode), req.tasks
        per_node = tuple(int(v) for v in req.per_node())
        return ("nodes", per_node, req.exclusive, *where, *mode), req.nodes

    def cpus_of(self, alloc: NodeAlloc) -> int:
        return int(alloc.amounts[:, 0].sum())

    def _having(self, feature: str) -> npt.NDArray[np.bool_]:
        """Nodes with the feature, or with any one of "a|b" (-C a|b)."""
        none = np.zeros(len(self.table), dtype=bool)
        got: npt.NDArray[np.bool_] = np.logical_or.reduce(
            [self.table.feature_masks.get(f, none) for f in feature.split("|")]
        )
        return got

    def set_down(self, down: npt.NDArray[np.bool_]) -> None:
        """Drained nodes (an administrator's): running jobs keep them, nothing new is placed or planned there."""
        self.down = down.copy() if down.any() else None
        self._drain_memo.clear()

    def drain_blocks(self, req: Request) -> bool:
        """True when the request fits the empty machine only with drained nodes back: it cannot start before an
        administrator resumes them (Slurm's ReqNodeNotAvail, UnavailableNodes), however long it waits."""
        if self.down is None:
            return False
        got = self._drain_memo.get(req.shape)
        if got is None:
            saved, self.now = self.now, math.inf
            try:
                got = self._place(self.table.capacity, req, self._mask(req)) is None
            finally:
                self.now = saved
            self._drain_memo[req.shape] = got
        return got

    def _mask(self, req: Request) -> npt.NDArray[np.bool_]:
        mask = self._eligible_ever(req)
        return mask if self.down is None else mask & ~self.down

    def allowed(self, req: Request) -> npt.NDArray[np.bool_]:
        """The nodes a request may ever use by partition, features and node lists (drains aside)."""
        return self._eligible_ever(req)

    def usable(self, req: Request) -> npt.NDArray[np.bool_]:
        """The nodes a request may be placed on now: ``allowed`` without the drained ones (delay scheduling waits
        for no drained node near a job's data: QA)."""
        return self._mask(req)

    def _eligible_ever(self, req: Request) -> npt.NDArray[np.bool_]:
        """The nodes a request may use by its partition, features and node lists (cached: they never change)."""
        key = (req.partition, req.features, req.node_names, req.exclude_nodes, req.adds_nodes)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.ones(len(self.table), dtype=bool)
            if req.partition:  # "a,b" (-p a,b): the nodes of either
                none = np.zeros(len(self.table), dtype=bool)
                mask &= np.logical_or.reduce(
                    [self.table.partition_masks.get(p, none) for p in req.partition.split(",")]
                )
            for feat in req.features:
                mask &= self._having(feat)
            if req.node_names and not req.adds_nodes:  # else they are required, the others allowed
                mask &= np.isin(np.array(self.table.names), req.node_names)
            if req.exclude_nodes:
                mask &= ~np.isin(np.array(self.table.names), req.exclude_nodes)
            self._masks[key] = mask
        return mask

    def impossible(self, req: Request) -> str | None:
        """Why ``req`` can never run here, or None; memoised by shape, which fits or fails alike on these nodes (a
        restart with a 10,000-task array placed each task on the empty machine)."""
        if req.share:
            self._shared()
        key = req.shape
        if key not in self._never:
            if len(self._never) >= 4096:
                self._never.clear()
            self._never[key] = self._impossible(req)
        return self._never[key]

    def _impossible(self, req: Request) -> str | None:
        unknown = [p for p in req.partition.split(",") if p and p not in self.table.partition_masks]
        if unknown:
            return f"unknown partition {unknown[0]!r}"
        unknown = sorted(set(req.node_names) - set(self.table.names))
        if unknown:
            return f"--nodelist names nodes that do not exist: {unknown[:5]}"
        unknown = sorted(set(req.exclude_nodes) - set(self.table.names))
        if unknown:  # a typo would exclude nothing, silently
            return f"--exclude names nodes that do not exist: {unknown[:5]}"
        mask = self._eligible_ever(req)  # a drained node comes back: a job that needs it waits, it is not refused
        if not mask.any():  # what the nodes lack: partition, -C features, GPU type (QA: "those features")
            if req.node_names or req.exclude_nodes:
                return listed_refusal(self.table, req, self._having)
            return featureless(self.table, req, self._having)
        if req.adds_nodes and (lost := unusable_listed(self, req, mask)):
            return listed_refusal(self.table, replace(req, node_names=lost), self._having)
        if self.select is None and (req.segment or req.topology_required or req.topology_preferred):
            return UNPLACED  # --switches alone is accepted and ignored here, as Slurm without topology/tree does
        return None if self.fits_empty(req, mask) else why_never(self, req, mask)

    def fits_empty(self, req: Request, mask: npt.NDArray[np.bool_]) -> bool:
        """Whether ``req`` fits the empty machine's nodes of ``mask``, once every wait has expired."""
        saved, self.now = self.now, math.inf
        try:
            return self._place(self.table.capacity, req, mask) is not None
        finally:
            self.now = saved

    def _selected(self, req: Request, room: npt.NDArray[np.int64], units: int, per: Matrix) -> NodeAlloc | None:
        assert self.select is not None
        picked = self.select.select(req, room, units, self.now)
        if picked is None:
            return None
        chosen, take = picked
        if req.exclusive:
            return NodeAlloc(chosen, self.table.capacity[chosen])
        if req.nodes is not None:
            return NodeAlloc(chosen, req.node_amounts())
        return NodeAlloc(chosen, take[:, None] * per[None, :])

    def _place(self, free: Matrix, req: Request, mask: npt.NDArray[np.bool_]) -> NodeAlloc | None:
        """Nodes of ``mask`` for ``req``; a job listing several partitions (-p a,b) gets the nodes of one of them,
        the first (engine/partition_choice.py) where it fits, as Slurm runs it in exactly one (the union of
        their nodes put it in one partition on nodes of another, QA)."""
        if "," not in req.partition:
            return self._place_fabric(free, req, mask)
        for part in self.partitions_of(req.partition):
            got = self._place_fabric(free, req, mask & part)
            if got is not None:
                return got
        return None

    def partitions_of(self, listed: str) -> list[npt.NDArray[np.bool_]]:
        """Each partition's nodes of a list ("a,b"), in the order a job tries them (engine/partition_choice.py)."""
        got = self._parts.get(listed)
        if got is None:
            none = np.zeros(len(self.table), dtype=bool)
            masks = self.table.partition_masks
            got = self._parts[listed] = [masks.get(p, none) for p in in_order(listed, self.table.partition_tiers)]
        return got

    def _place_fabric(self, free: Matrix, req: Request, mask: npt.NDArray[np.bool_]) -> NodeAlloc | None:
        if self.fabrics is None or self.select is not None:  # a selector keeps the limit itself
            return self._place_in(free, req, mask)
        for fabric in np.unique(self.fabrics[mask]).tolist():  # in node order: first fit takes the first that fits
            got = self._place_in(free, req, mask & (self.fabrics == fabric))
            if got is not None:
                return got
        return None

    def _place_in(self, free: Matrix, req: Request, mask: npt.NDArray[np.bool_]) -> NodeAlloc | None:
        if req.exclusive:
            mask = mask & (free == self.table.capacity).all(axis=1)
        if req.nodes is not None:
            per = req.per_node()
            ok = mask & (free >= per).all(axis=1)
            if int(ok.sum()) < req.nodes:
                return None
            if req.adds_nodes:
                return place_including(self, free, req, ok)
            if self.select is not None:
                return self._selected(req, ok.astype(np.int64), req.nodes, per)
            chosen = self.rank(req, free, ok)[: req.nodes]
            amounts = self.table.capacity[chosen] if req.exclusive else req.node_amounts()
            return NodeAlloc(chosen, amounts)
        per_task = np.array(req.per_task, dtype=np.int64)
        used = per_task > 0
        if not used.any():
            return None
        room = (free[:, used] // per_task[used]).min(axis=1)
        room[~mask] = 0
        if int(room.sum()) < req.tasks:
            return None
        if self.select is not None:
            return self._selected(req, room, req.tasks, per_task)
        order = self.rank(req, free, room > 0)
        counts = np.minimum(room[order], req.tasks)
        cum = np.cumsum(counts)
        last = int(np.searchsorted(cum, req.tasks))
        chosen = order[: last + 1]
        take = counts[: last + 1].copy()
        take[-1] -= int(cum[last]) - req.tasks
        if req.exclusive:
            return NodeAlloc(chosen, self.table.capacity[chosen])
        return NodeAlloc(chosen, take[:, None] * per_task[None, :])

    def fits(self, req: Request) -> bool:
        if req.share:
            return self._shared().fits(req)
        return self._place(self.free, req, self._mask(req)) is not None

    def allocate(self, req: Request) -> NodeAlloc | None:
        if req.share:
            return self._shared().allocate(req)
        alloc = self._place(self.free, req, self._mask(req))
        if alloc is not None:
            self.free[alloc.nodes] -= alloc.amounts
        return alloc

    def allocate_avoiding(self, req: Request, keep: npt.NDArray[np.bool_]) -> NodeAlloc | None:
        """Allocate without touching the nodes in ``keep`` (nodes reserved for another job)."""
        if req.share:
            return self._shared().allocate_avoiding(req, keep)
        alloc = self._place(self.free, req, self._mask(req) & ~keep)
        if alloc is not None:
            self.free[alloc.nodes] -= alloc.amounts
        return alloc

    def eligible(self, req: Request) -> npt.NDArray[np.bool_]:
        """Nodes that could ever hold one node's share of ``req`` (partition, features, capacity)."""
        return self._mask(req) & (self.table.capacity >= req.per_node()).all(axis=1)

    def take(self, alloc: NodeAlloc) -> None:
        self.free[alloc.nodes] -= alloc.amounts

    def release(self, alloc: NodeAlloc) -> None:
        self.free[alloc.nodes] += alloc.amounts

    def nodes_of(self, alloc: NodeAlloc) -> tuple[int, ...]:
        return tuple(int(n) for n in alloc.nodes)

    def idle(self) -> bool:
        return bool((self.free == self.table.capacity).all())

    def total(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.table.capacity.sum(axis=0))

    def free_cpus(self) -> int:
        return int(self.free[:, 0].sum())

    def snapshot(self) -> Matrix:
        return self.free.copy()

    def copy(self, state: Matrix) -> Matrix:
        return state.copy()

    def state_add(self, state: Matrix, alloc: NodeAlloc) -> None:
        state[alloc.nodes] += alloc.amounts

    def state_sub(self, state: Matrix, alloc: NodeAlloc) -> None:
        state[alloc.nodes] -= alloc.amounts

    def state_place(self, state: Matrix, req: Request) -> NodeAlloc | None:
        if req.share:
            return self._shared().state_place(state, req)
        return self._place(state, req, self._mask(req))

    def state_min(self, a: Matrix, b: Matrix) -> Matrix:
        return np.minimum(a, b)

    def state_ok(self, state: Matrix) -> bool:
        return bool((state >= 0).all())

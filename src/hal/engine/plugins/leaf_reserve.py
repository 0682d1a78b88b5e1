"""Leaf-aware EASY reservation: hold a blocked multi-node head for a fewest-leaf placement and keep its nodes.

Plain EASY starts the head as soon as enough nodes are free anywhere, and under heavy load that is almost
never inside the fewest leaves. Like Slurm's backfill planning a head with a switch constraint onto
specific nodes, this plans the head onto the node set of a fewest-leaf placement that frees earliest (from
the running jobs' predicted ends) and lets a backfill candidate use one of those nodes only if it ends
before the reservation starts. The head waits for such a placement at most ``wait`` seconds beyond the
moment it could first have started anywhere; past that, or when the plan starts later than that, it takes
any placement (plain EASY). Options: the next waiting multi-node jobs get held node sets too (``depth``);
backfill places multi-node jobs only in their fewest leaves (``strict``); ``nodes=False`` keeps EASY's own
check instead of node sets (the held head's shadow is then when it fits in its fewest leaves). A hold not
planned again lapses after ``wait`` (the engine skips the EASY pass when one job waits). Users turn it on
with a profile's ``topology_reserve`` string (``wait=3600,depth=3``: ``reserve_args``), as the fat-tree
benchmark does with ``--reserve``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plan import Plan, Reservation
from hal.engine.plugins.placement import RANKERS
from hal.engine.plugins.topology import Hold, TopoIndex, TopologyArgs, TopologySelector
from hal.engine.plugins.topology_span import bind_capacity
from hal.engine.profile import Profile
from hal.engine.queue import Waiting
from hal.engine.request import Request
from hal.model.cluster import NodeTable
from hal.model.topology import Topology

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler

Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class LeafPlan:
    """When a request can start in the fewest leaves, on which nodes, and when it could start anywhere."""

    start: float
    anywhere: float
    leaves: int
    nodes: npt.NDArray[np.intp]


def _plain(req: Request) -> bool:
    """A whole-node request without explicit topology constraints (those keep their own semantics, and so do
    Slurm's --exclusive=user|topo: engine/sharing.py), in one partition (-p a,b runs in one of them: leaves planned
    over their union could mix them)."""
    explicit = req.switches or req.segment or req.topology_required or req.inputs or req.share or "," in req.partition
    return bool(req.nodes and req.nodes > 1 and not explicit)


RESERVE_KEYS = ("wait", "depth", "strict", "nodes", "drain", "sjf")
USER_KEYS = ("wait", "depth", "strict", "nodes")  # drain needs per-node expected ends only the benchmark keeps;
# sjf is the profile's backfill_order


def parse_reserve(text: str, keys: tuple[str, ...] = RESERVE_KEYS) -> dict[str, float]:
    """``KEY=VALUE[,KEY=VALUE]`` (e.g. ``wait=3600,depth=3,strict=inf``) as numbers; a bad key or value raises
    ValueError naming it."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"topology reserve {part!r} is not KEY=VALUE (e.g. wait=3600,depth=3)")
        if key not in keys:
            raise ValueError(f"unknown topology reserve key {key!r}; known: {', '.join(keys)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"topology reserve {key}={value.strip()!r} is not a number") from None
        if not number >= 0:  # each key's own range, as reserve_args states it (QA: depth=-1 said '>= 0')
            must = {"depth": "a whole number >= 1", "nodes": "0 or 1"}.get(key, ">= 0")
            raise ValueError(f"topology reserve {key}={value.strip()} must be {must}")
        out[key] = number
    return out


def reserve_args(text: str) -> tuple[float, int, float, bool]:
    """(wait, depth, strict, nodes) of a profile's ``topology_reserve`` string (keys ``USER_KEYS``, wait needed).
    An empty or blank one is refused as lacking wait=: given, it asks for a reservation (``--topology-reserve ''``
    ran none, QA; a profile's "" is left out before this, as no reservation)."""
    if not text.strip():
        raise ValueError(f"topology reserve {text!r} needs wait=SECONDS (how long a head may be held), e.g. wait=3600")
    opts = parse_reserve(text, USER_KEYS)
    if "wait" not in opts:
        raise ValueError(f"topology reserve {text!r} needs wait=SECONDS (how long a head may be held)")
    depth, nodes = opts.get("depth", 1.0), opts.get("nodes", 1.0)
    if not math.isfinite(depth) or depth != int(depth) or depth < 1:
        raise ValueError(f"topology reserve depth={depth:g} must be a whole number >= 1")
    if nodes not in (0.0, 1.0):
        raise ValueError(f"topology reserve nodes={nodes:g} must be 0 or 1")
    return opts["wait"], int(depth), opts.get("strict", 0.0), bool(nodes)


def reserver_from(selector: TopologySelector, text: str) -> LeafReserver:
    """The reservation a profile's ``topology_reserve`` string asks for, on ``selector``."""
    wait, depth, strict, nodes = reserve_args(text)
    return LeafReserver(selector, wait, depth, strict, nodes)


def placement_book(table: NodeTable, profile: Profile, topology: Topology | None) -> NodeBook:
    """The node book a profile asks for, the same in the controller and the simulator: ranked by its
    placement; with ``placement = "topology"``, a topology selector on the cluster's tree (flat without one)
    and the leaf reservation its ``topology_reserve`` asks for."""
    if profile.placement != "topology":
        book = NodeBook(table, RANKERS[profile.placement])
        if topology is not None and not topology.connected:  # no placement spans separate fabrics
            index = TopoIndex(topology)
            book.fabrics = index.ids[index.span_top].copy()
        book.blocks = topo_blocks(topology)
        return book
    args = TopologyArgs(max_switch_wait=profile.max_switch_wait, weights=profile.placement_weights)
    selector = TopologySelector(topology or Topology.flat(len(table)), args)  # the profile's [placement] weights
    selector.names, selector.index.capacity = table.names, table.capacity
    book = NodeBook(table, RANKERS[profile.placement], selector)
    bind_capacity(book)  # the nodes each job may use, for sizing jobs without -N (capacities are set above)
    if profile.topology_reserve:
        book.reserver = reserver_from(selector, profile.topology_reserve)
    book.blocks = topo_blocks(topology, selector.args.segment_level)
    return book


def topo_blocks(topology: Topology | None, level: str = "block") -> npt.NDArray[np.intp] | None:
    """Per node, the block --exclusive=topo keeps whole (the level --segment uses): Slurm's topology/block
    base blocks. None without that level: Slurm's tree and flat topologies have no segments to keep, and each
    node is its own (engine/sharing.py), so such a job keeps whole nodes."""
    if topology is None or level not in topology.levels:
        return None
    index = TopoIndex(topology)
    return index.ids[index.names.index(level)].copy()


class LeafReserver:
    """The EASY hook of a NodeBook (``book.reserver``) for a topology selector; see the module docstring."""

    def __init__(
        self, selector: TopologySelector, wait: float, depth: int = 1, strict: float = 0.0, nodes: bool = True
    ) -> None:
        self.selector = selector
        self.wait = wait
        self.depth = max(1, depth)
        self.strict = strict  # > 0: backfill a plain multi-node job only into its fewest leaves until it has
        # waited this long since its submission (inf: always)
        self.nodes = nodes  # node-specific reservations; False: EASY's own check, the head held to its leaves
        self._since: tuple[int, float] | None = None  # (head job, first time it could have started anywhere)
        self._fewest: dict[int, int] = {}
        self.planned: dict[int, tuple[float, npt.NDArray[np.intp]]] = {}  # job -> its reserved start and nodes
        selector.holds = {}

    # ---- planning ----------------------------------------------------------------------------------
    def node_free_at(self, s: Scheduler, book: NodeBook, req: Request, now: float) -> Floats:
        """Per node, when it is predicted to have room for one node of ``req`` (inf: never)."""
        per = req.per_node()
        ok_now = np.all(book.free >= per, axis=1)
        if req.exclusive:
            ok_now = ok_now & np.all(book.free == book.table.capacity, axis=1)
        blocked = book.blocked(req)  # another user's --exclusive=user nodes (engine/sharing.py)
        if blocked is not None:
            ok_now = ok_now & ~blocked
        end = np.full(book.free.shape[0], now)
        for act in s.running.values():
            if not act.released:
                held = act.alloc.held  # an --exclusive=topo job's blocks stay taken while it runs
                nodes = act.alloc.nodes if held is None else np.union1d(act.alloc.nodes, held.nodes)
                end[nodes] = np.maximum(end[nodes], act.predicted_end)
        at = np.where(ok_now, now, np.maximum(end, now))
        return np.where(book.eligible(req), at, np.inf)

    def plan(self, at: Floats, units: int) -> LeafPlan | None:
        """The earliest time ``units`` nodes are free within the fewest leaves, and which nodes (best fit)."""
        ix = self.selector.index
        usable = np.isfinite(at)
        leaf = ix.ids[ix.leaf]
        sizes = np.sort(np.bincount(leaf[usable], minlength=ix.counts[ix.leaf]))[::-1]
        cum = np.cumsum(sizes)
        if cum.size == 0 or cum[-1] < units:
            return None
        n_leaves = int(np.searchsorted(cum, units)) + 1
        times = np.unique(at[usable])

        def counts(t: float) -> npt.NDArray[np.int64]:
            return np.bincount(leaf[at <= t], minlength=ix.counts[ix.leaf])

        lo, hi = 0, len(times) - 1  # the last time always fits (every usable node is free then)
        while lo < hi:
            mid = (lo + hi) // 2
            if int(np.sort(counts(float(times[mid])))[-n_leaves:].sum()) >= units:
                hi = mid
            else:
                lo = mid + 1
        start = float(times[lo])
        anywhere = float(np.partition(at[usable], units - 1)[units - 1])
        return LeafPlan(start, anywhere, n_leaves, self._nodes(at, start, counts(start), units, n_leaves))

    def _nodes(
        self, at: Floats, start: float, count: npt.NDArray[np.int64], units: int, n_leaves: int
    ) -> npt.NDArray[np.intp]:
        """Whole leaves largest first, the rest in the leaf that fits it most tightly; earliest nodes first."""
        ix = self.selector.index
        leaf = ix.ids[ix.leaf]
        order = np.argsort(-count, kind="stable")
        full = order[: n_leaves - 1]
        rest = units - int(count[full].sum())
        spare = order[n_leaves - 1 :]
        spare = spare[count[spare] >= rest]
        last = int(spare[np.lexsort((spare, count[spare]))[0]])
        ready = at <= start
        whole = np.flatnonzero(ready & np.isin(leaf, full))
        cands = np.flatnonzero(ready & (leaf == last))
        part = cands[np.argsort(at[cands], kind="stable")[:rest]]
        return np.concatenate([whole, part]).astype(np.intp)

    # ---- the EASY hook ---------------------------------------------------------------------------
    def easy(self, s: Scheduler, plan: Plan, now: float, head: Waiting, cands: list[Waiting]) -> set[int] | None:
        """Reserve fewest-leaf nodes for the head (and the next ``depth - 1`` multi-node jobs) and backfill
        around them; None: plain EASY this pass (the head is not worth holding)."""
        sel, book = self.selector, s.book
        sel.holds, self.planned = {}, {}
        if not isinstance(book, NodeBook):
            return None
        if self._since is not None and self._since[0] != head.spec.job_id:
            self._since = None
        jobs = [head, *(w for w in cands if _plain(w.req))]
        bars: list[tuple[float, Mask, int]] = []  # (reserved start, nodes, job) in priority order
        taken = np.zeros(book.free.shape[0], dtype=bool)
        for w in jobs[: self.depth]:
            if not _plain(w.req):
                continue
            at = self.node_free_at(s, book, w.req, now)
            at[taken] = np.inf
            lp = self.plan(at, w.req.nodes or 1)
            if lp is None:
                continue
            jid = w.spec.job_id
            if w is head and lp.anywhere <= now and self._since is None:
                self._since = (jid, now)  # it could start anywhere from now on
            if w is head and self._since is not None:
                since = until = self._since[1]
            else:  # not startable yet: the hold lapses unless planned again
                since, until = max(lp.anywhere, now), now
            if lp.start <= since + self.wait:
                sel.holds[id(w.req)] = Hold(w.req, lp.leaves, until + self.wait)
            elif w is not head:
                continue  # not worth the wait: it takes any placement when it fits
            elif lp.anywhere <= now:
                return self._start_head(s, plan, now, head)
            else:
                continue  # plain EASY for the head: it takes any placement when it first fits
            keep = np.zeros_like(taken)
            keep[lp.nodes] = True
            taken |= keep
            bars.append((lp.start, keep, jid))
            self.planned[jid] = (lp.start, lp.nodes)  # what `hal explain` names (placement_explain.held_by_leaves)
        if self.strict:
            for w in cands:
                if _plain(w.req) and id(w.req) not in sel.holds:
                    until = min(w.req.submit + self.strict, now + self.wait)  # lapses unless planned again
                    sel.holds[id(w.req)] = Hold(w.req, self.fewest(w.req.nodes or 1), until)
        if not self.nodes or not bars or bars[0][2] != head.spec.job_id:
            return None  # EASY's own check; a held head's shadow is then when it fits in its fewest leaves
        s.reservations[head.spec.job_id] = bars[0][0]
        plan.reservations.append(Reservation(head.spec.job_id, bars[0][0]))
        return self._scan(s, book, plan, now, bars, cands)

    @staticmethod
    def _start_head(s: Scheduler, plan: Plan, now: float, head: Waiting) -> set[int] | None:
        """The head was held in this cycle's greedy starts and is no longer worth holding: start it now."""
        alloc = s.book.allocate(head.req)
        if alloc is None:
            return None
        s.start(plan, head, alloc, now, False)
        return {head.spec.job_id}

    def _scan(
        self,
        s: Scheduler,
        book: NodeBook,
        plan: Plan,
        now: float,
        bars: list[tuple[float, Mask, int]],
        cands: list[Waiting],
    ) -> set[int]:
        """Start each candidate that fits now without a node reserved for another job that it would still
        hold when that reservation starts; nodes outside every reservation are tried first."""
        started: set[int] = set()
        failed: dict[tuple[object, ...], int] = {}  # (request kind, barred sets) -> fewest nodes that failed
        free = book.free_cpus()
        masks: dict[int, Mask] = {}
        for cand in cands:
            if cand.cpus > free:
                continue
            jid, end = cand.spec.job_id, now + cand.estimate
            every = sum(1 << i for i, (_, _, j) in enumerate(bars) if j != jid)
            late = sum(1 << i for i, (t, _, j) in enumerate(bars) if j != jid and end > t)
            alloc = None
            tries = [(every, True), (late, True), (every, False), (late, False)]
            for sig, compact in tries if late != every else tries[::2]:
                keep = masks.get(sig)
                if keep is None:
                    keep = masks[sig] = np.zeros(book.free.shape[0], dtype=bool)
                    for i, (_, k, _) in enumerate(bars):
                        if sig >> i & 1:
                            keep |= k
                alloc = self._try(book, cand.req, keep, failed, (sig, compact))
                if alloc is not None and compact and not self._compact(cand.req, alloc):
                    book.release(alloc)
                    alloc = None
                if alloc is not None:
                    break
            if alloc is None:
                continue
            s.start(plan, cand, alloc, now, True)
            started.add(jid)
            free = book.free_cpus()
            if free <= 0:
                break
        return started

    def fewest(self, units: int) -> int:
        """The fewest leaves that can hold ``units`` whole nodes on an empty machine."""
        got = self._fewest.get(units)
        if got is None:
            ix = self.selector.index
            cum = np.cumsum(np.sort(ix.size[ix.leaf])[::-1])
            got = self._fewest[units] = int(np.searchsorted(cum, units)) + 1
        return got

    def _compact(self, req: Request, alloc: NodeAlloc) -> bool:
        return not _plain(req) or self.selector.index.span(alloc.nodes)[0] <= self.fewest(req.nodes or 1)

    def _try(
        self, book: NodeBook, req: Request, keep: Mask, failed: dict[tuple[object, ...], int], tag: object
    ) -> NodeAlloc | None:
        """Allocate outside ``keep``; whole-node requests that failed rule out larger ones of their kind
        (held and free requests apart: a held one may fail where a free one of its size fits)."""
        mono = _plain(req) or (req.nodes == 1 and not req.inputs)
        held = id(req) in self.selector.holds
        whose = req.user if book.sharing else ""  # whose a job is decides where it may go (engine/sharing.py)
        key = (tuple(req.per_node()), req.exclusive, req.partition, req.features, tag, held, req.share, whose)
        if mono and (req.nodes or 0) >= failed.get(key, 1 << 62):
            return None
        alloc = book.allocate_avoiding(req, keep)
        if alloc is None and mono:
            failed[key] = min(failed.get(key, 1 << 62), req.nodes or 0)
        return alloc

"""Topology-aware node selection: the smallest domain that fits, the fewest leaves, best fit, ranks in tree order.

Semantics follow the systems users know: Slurm's topology/tree (``--switches=N[@maxwait]``: at most N leaf
switches, waiting up to maxwait, default ``max_switch_wait`` 300 s) and topology/block (``--segment=N``:
every group of N nodes inside one block), and Kueue's TAS (``required=LEVEL``: one domain of that level or
wait; ``preferred=LEVEL``: try it, climb up, else spread). Without a request, multi-node jobs get the
best-effort behaviour of Slurm's tree plugin, and on topology/block its implicit rule (the smallest aggregation of
blocks that holds the job), which a named placement replaces (topology_span.named_placement). All work is
whole-array numpy over nodes or domains; the only Python loops run over levels (a handful) or over the blocks of
one segmented job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import Picked
from hal.engine.plugins.data_local import plain_delay
from hal.engine.plugins.score import PlacementWeights, combine, topology_part
from hal.engine.plugins.topology_refusal import refusal
from hal.engine.plugins.topology_span import block_cap, block_room
from hal.engine.request import Request
from hal.model.topology import Topology

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TopologyArgs:
    max_switch_wait: float = 300.0  # Slurm's SchedulerParameters=max_switch_wait default
    segment_level: str = "block"  # the level --segment keeps groups inside (the leaf level if absent)
    data_delay: float = 0.0  # delay scheduling: wait up to this long for a data-local placement
    data_delay_min: float = 60.0  # ...but only when staging elsewhere would take at least this long
    weights: PlacementWeights = field(default_factory=PlacementWeights)
    align_ends: float = 0.0  # >0: among leaves within this share of a leaf of the best fit, take the one
    # whose running jobs end closest to this job's expected end (leaves then drain together); needs node_end
    drain_fit: bool = False  # prefer leaves whose running jobs end after this one (it does not delay their
    # draining into a whole free leaf), best fit among them; needs node_end

    def switch_wait(self, asked: float | None) -> float:
        """A --switches job's wait: its @maxwait capped by max_switch_wait (or that cap), as Slurm does."""
        return self.max_switch_wait if asked is None else min(asked, self.max_switch_wait)


@dataclass(frozen=True, slots=True)
class Hold:
    """A job held for a fewest-leaf placement (engine/plugins/leaf_reserve.py sets them each EASY pass): until
    ``until`` the selector refuses to place this very request over more than ``leaves`` leaves."""

    req: Request
    leaves: int
    until: float


class DataCost(Protocol):
    """Per-node stage-in cost of a job's inputs (engine/plugins/locality.py implements it)."""

    def normalized(self, inputs: tuple[str, ...]) -> tuple[Floats, npt.NDArray[np.bool_]]:
        """(cost in [0, 1] per node, data-local mask per node)."""

    def stage_seconds(self, inputs: tuple[str, ...]) -> Floats:
        """Per node: what staging the inputs there would cost, in seconds."""

    def fits(self, inputs: tuple[str, ...]) -> list[npt.NDArray[np.bool_]]:
        """Masks of the nodes whose caches can take the inputs they lack, best first (empty: no limits known)."""


class TopoIndex:
    """Integer domain ids per level, finest first: level 0 is the node itself, the last is the whole cluster."""

    def __init__(self, topology: Topology) -> None:
        n = len(topology.paths)
        self.n = n
        self.names: list[str] = ["node"]
        self.ids: list[npt.NDArray[np.intp]] = [np.arange(n, dtype=np.intp)]
        self.labels: list[list[str]] = [[str(i) for i in range(n)]]
        for depth in range(len(topology.levels) - 1, -1, -1):
            keys: dict[tuple[str, ...], int] = {}
            arr = np.fromiter((keys.setdefault(p[: depth + 1], len(keys)) for p in topology.paths), np.intp, n)
            self.names.append(topology.levels[depth])
            self.ids.append(arr)
            self.labels.append(["/".join(k) for k in keys])
        joined = len(self.labels[-1]) > 1 or len(self.names) == 1  # a root above the declared top domains
        if joined:
            self.names.append("cluster")
            self.ids.append(np.zeros(n, dtype=np.intp))
            self.labels.append(["cluster"])
        self.counts = [len(lab) for lab in self.labels]
        self.top = len(self.names) - 1
        # the highest level a job may span: below the root we added when the top-level domains are separate
        # fabrics (a single declared top domain, such as BlockSizes' largest aggregation of the whole machine, is
        # itself the domain a job stays in)
        self.span_top = self.top if topology.connected or not joined or self.top < 2 else self.top - 1
        self.leaf = 1 if self.top >= 1 else 0
        keys_lex = (np.arange(n), *self.ids[1:])
        order = np.lexsort(keys_lex)
        self.rank = np.empty(n, dtype=np.intp)
        self.rank[order] = np.arange(n)
        # parent[l][d]: the domain at level l+1 holding domain d of level l
        self.parent: list[npt.NDArray[np.intp]] = []
        for lvl in range(self.top):
            par = np.zeros(self.counts[lvl], dtype=np.intp)
            par[self.ids[lvl]] = self.ids[lvl + 1]
            self.parent.append(par)
        self.size = [np.bincount(ids, minlength=c) for ids, c in zip(self.ids, self.counts, strict=True)]
        self.alone = np.isin(np.arange(n), list(topology.outside))  # in no switch or block: a fabric of one node
        self.outside_of, self.names_from = topology.outside_of, topology.names_from  # (for refusals)
        self.nominal = dict(zip(topology.levels, topology.block_nodes, strict=False))  # topology/block's sizes
        self.capacity: Ints | None = None  # the nodes' capacities (topology_span.bind_capacity), and the fewest
        self.fewest: dict[tuple[Any, ...], int | None] = {}  # nodes each task shape fits on, where it may run
        self.eligible: Callable[[Any], npt.NDArray[np.bool_]] | None = None  # the nodes a request may use (bound)
        self.usable: Callable[[Any], npt.NDArray[np.bool_]] | None = None  # ...now: drained ones aside (bound)

    def level(self, name: str) -> int | None:
        """A level by name; ``cluster`` is the whole machine whatever its top domain is called (a block
        topology's largest aggregation, a single root switch, separate fabrics)."""
        if name in self.names:
            return self.names.index(name)
        return self.top if name == "cluster" else None

    def sums(self, level: int, room: Ints | Floats) -> Floats:
        return np.bincount(self.ids[level], weights=room, minlength=self.counts[level]).astype(np.float64)

    def span(self, nodes: npt.NDArray[np.intp]) -> tuple[int, int]:
        """(leaf domains used, highest level spanned: 0 one node, 1 one leaf, ...)."""
        if nodes.size == 0:
            return (0, 0)
        leaves = int(np.unique(self.ids[self.leaf][nodes]).size)
        for lvl in range(self.top + 1):
            if np.all(self.ids[lvl][nodes] == self.ids[lvl][nodes[0]]):
                return (leaves, lvl)
        return (leaves, self.top)


class TopologySelector:
    """A NodeBook selector (see engine/nodes.py) implementing the topology and data-aware placement."""

    name = "topology"

    def __init__(self, topology: Topology, args: TopologyArgs | None = None, data: DataCost | None = None) -> None:
        self.index = TopoIndex(topology)
        self.args = args or TopologyArgs()
        self.data = data
        self.node_end: Floats | None = None  # per node, when its running work is expected to end (the shell
        # keeps it; 0 for idle nodes); read only with ``align_ends``
        self._req_end = 0.0
        self.holds: dict[int, Hold] = {}  # id(request) -> hold: jobs waiting for a fewest-leaf placement
        self.names: tuple[str, ...] = ()  # the nodes' names, for refusals that name them
        self.last_budget: float | None = None  # the delay budget last computed, and the node it priced staging
        self.last_there: int | None = None  # on (where the job could start now): `hal explain` tells them
        seg = self.index.level(self.args.segment_level)
        self.seg_level = seg if seg is not None else self.index.leaf

    # ---- the NodeBook hook -----------------------------------------------------------------------
    def select(self, req: Request, room: Ints, units: int, now: float) -> Picked | None:
        ix = self.index
        top = ix.span_top
        if req.topology_required:
            req_top = ix.level(req.topology_required)
            if req_top is None:
                return None
            top = min(req_top, top)  # required=cluster never spans separate fabrics
        cap = block_cap(ix, req)  # topology/block: the aggregation its node count calls for, in few of the next
        top, room = min(top, cap or top), block_room(ix, req, room, cap)  # smaller ones (Slurm's max_llblock)
        if req.topology_preferred and ix.level(req.topology_preferred) is None:  # refused at submission (why)
            return None
        self._req_end = now + req.limit
        cost, local = self._data(req)
        for fit in self.data.fits(req.inputs) if self.data is not None and req.inputs else ():
            if int(np.where(fit, room, 0).sum()) >= units:  # no eviction if it can be helped; never a full cache
                room = np.where(fit, room, 0)
                break
        if cost is not None and self.args.data_delay > 0 and now < req.submit + self.args.data_delay:
            delayed = plain_delay(self, req, local, room, units, top, now)  # data-local nodes only, for a while
            if delayed is None:
                return None
            room = delayed
        seg = req.segment if req.segment and req.nodes else 0  # --segment=1 too: each node a segment, any blocks
        picked = self._segments(room, units, seg, top, cost) if seg else self._pick(room, units, 0, top, cost)
        if picked is None:
            return None
        if req.switches is not None:
            wait = self.args.switch_wait(req.switches_wait)
            if now < req.submit + wait and ix.span(picked[0])[0] > req.switches:
                if seg:  # --segment is hard: --switches only chooses among placements that keep segments whole
                    picked = self._segments(room, units, seg, top, None, fewest=True) or picked
                elif top == ix.top:
                    picked = self._fill(top, np.flatnonzero(room > 0), room, units, None)
                else:  # separate fabrics: the fewest leaves inside one of them
                    picked = self._pick(room, units, 0, top, None) or picked
                if ix.span(picked[0])[0] > req.switches:
                    return None
        hold = self.holds.get(id(req)) if self.holds else None
        if hold is not None and req is hold.req and now < hold.until and ix.span(picked[0])[0] > hold.leaves:
            return None
        nodes, take = picked
        order = np.argsort(ix.rank[nodes], kind="stable")  # ranks follow the tree (fewest cross-domain hops)
        return nodes[order], take[order]

    def why(self, req: Request, room: Ints, units: int) -> str | None:
        """Why a request can never fit, even on an empty machine."""
        return refusal(self.index, self.seg_level, self.names, req, room, units)

    # ---- search ----------------------------------------------------------------------------------
    def _data(self, req: Request) -> tuple[Floats | None, npt.NDArray[np.bool_]]:
        if self.data is None or not req.inputs or self.args.weights.data <= 0:
            return None, np.ones(self.index.n, dtype=bool)
        return self.data.normalized(req.inputs)

    def _pick(self, room: Ints, units: int, lo: int, top: int, cost: Floats | None) -> Picked | None:
        """The cheapest fitting domain over levels lo..top by the weighted total (score.combine), filled with the
        fewest child domains. Without data costs each level's candidate is its best fit (``_best``) and, while
        the weights put topology first (``level_first``: the defaults), the lowest level that fits wins, as in
        Slurm, however deep the tree; other [placement] weights may trade a level for less fragmentation."""
        ix, w = self.index, self.args.weights
        best: tuple[float, int, int] | None = None
        for lvl in range(lo, top + 1):
            dom = ix.sums(lvl, room)
            cands = np.flatnonzero(dom >= units)
            if cands.size == 0:
                continue
            part_topo = topology_part(lvl, lo, top)
            if best is not None and best[0] <= w.topology * part_topo:
                break  # no higher level can beat it: its topology part alone is larger
            if cost is None:  # pure topology: this level's best fit, as the selector always took it
                d = self._best(lvl, cands, dom, room)
                total = w.topology * part_topo + w.fragmentation * (1.0 - units / float(dom[d]))
                if best is None or total < best[0]:
                    best = (total, lvl, d)
                if w.level_first:
                    break
                continue
            dcost = self._dom_cost(lvl, cost, room)[cands]
            frag = 1.0 - units / dom[cands]
            totals = combine(w, part_topo, 0.0, 0.0) + w.data * dcost + w.fragmentation * frag
            k = int(np.argmin(totals))
            if best is None or totals[k] < best[0]:
                best = (float(totals[k]), lvl, int(cands[k]))
        if best is None:
            return None
        _, lvl, d = best
        return self._fill(lvl, np.flatnonzero((ix.ids[lvl] == d) & (room > 0)), room, units, cost)

    def by_level(self, req: Request) -> bool:
        """Whether ``_pick`` takes the lowest level that fits for ``req`` (no data costs, ``level_first``
        weights), so `hal explain` ranks its alternatives as the selector does."""
        segmented = bool(req.segment and req.nodes)  # --segment picks blocks without data costs
        return self.args.weights.level_first and (segmented or self._data(req)[0] is None)

    def bounds(self, req: Request) -> tuple[int, int]:
        """The levels ``select`` ranks ``req`` over, lo..top (the topology part's 0 and 1); a level the tree
        lacks (refused at submission) bounds it at the top."""
        ix = self.index
        top = ix.span_top
        required = ix.level(req.topology_required) if req.topology_required else None
        top = min(top, ix.top if required is None else required)
        top = min(top, block_cap(ix, req) or top)
        if req.segment and req.nodes:
            return self.seg_level, max(self.seg_level, top)
        return 0, top

    def _best(self, lvl: int, cands: npt.NDArray[np.intp], dom: Floats, room: Ints) -> int:
        """Best fit: least free room; ties go to the domain whose parents are fullest, then lowest index."""
        ix = self.index
        parents: list[Floats] = []
        doms = cands
        for up in range(lvl, ix.top - 1):
            doms = ix.parent[up][doms]
            parents.append(ix.sums(up + 1, room)[doms])
        keys = [cands, *reversed(parents), dom[cands]]
        if self.args.drain_fit and self.node_end is not None and lvl == ix.leaf:
            drain = np.zeros(ix.counts[lvl])
            np.maximum.at(drain, ix.ids[lvl], self.node_end)
            keys.append((drain[cands] < self._req_end).astype(np.float64))
        first = int(cands[np.lexsort(keys)[0]])
        if self.args.align_ends <= 0 or self.node_end is None or lvl != ix.leaf or cands.size < 2:
            return first
        return self._aligned(lvl, cands, dom, first)

    def _aligned(self, lvl: int, cands: npt.NDArray[np.intp], dom: Floats, first: int) -> int:
        """Among leaves nearly as tight as the best fit, the one whose busy nodes end closest to this job."""
        ix = self.index
        assert self.node_end is not None
        near = cands[dom[cands] <= dom[first] + self.args.align_ends * float(ix.size[lvl][first])]
        if near.size < 2:
            return first
        busy = self.node_end > 0
        gap = np.abs(self.node_end - self._req_end)
        total = np.bincount(ix.ids[lvl], weights=np.where(busy, gap, 0.0), minlength=ix.counts[lvl])
        count = np.bincount(ix.ids[lvl], weights=busy.astype(np.float64), minlength=ix.counts[lvl])
        mismatch = np.where(count[near] > 0, total[near] / np.maximum(count[near], 1), np.inf)
        return int(near[np.lexsort((near, dom[near], mismatch))[0]])

    def _dom_cost(self, lvl: int, cost: Floats, room: Ints) -> Floats:
        ix = self.index
        out = np.full(ix.counts[lvl], np.inf)
        usable = room > 0
        np.minimum.at(out, ix.ids[lvl][usable], cost[usable])
        return out

    def _fill(self, lvl: int, members: npt.NDArray[np.intp], room: Ints, units: int, cost: Floats | None) -> Picked:
        """Take ``units`` from the nodes ``members`` (one domain of level lvl): whole children largest first,
        the remainder in the child that fits it most tightly (best fit), recursively down to nodes."""
        if lvl == 0 or members.size == 1:
            take = np.minimum(room[members], units)
            cum = np.cumsum(take)
            last = int(np.searchsorted(cum, units))
            take = take[: last + 1].copy()
            take[-1] -= int(cum[last]) - units
            return members[: last + 1], take
        child_ids = self.index.ids[lvl - 1][members]
        uniq, inv = np.unique(child_ids, return_inverse=True)
        croom = np.bincount(inv, weights=room[members])
        ccost = np.zeros(uniq.size) if cost is None else self._child_cost(inv, cost[members], uniq.size)
        fits = np.flatnonzero(croom >= units)
        if fits.size:
            k = int(fits[np.lexsort((fits, ccost[fits], croom[fits]))[0]])
            return self._fill(lvl - 1, members[inv == k], room, units, cost)
        if lvl - 1 > self.index.leaf:  # children above the leaves: count leaves, not children (Slurm's tree)
            return self._fill_leaves(lvl, members, room, units, cost)
        whole, rest, spare = _whole_then_rest(np.lexsort((ccost, -croom)), croom, units)
        last = int(spare[np.lexsort((ccost[spare], croom[spare]))[0]])
        mask = np.isin(inv, whole)
        nodes_w = members[mask]
        n2, t2 = self._fill(lvl - 1, members[inv == last], room, rest, cost)
        return np.concatenate([nodes_w, n2]), np.concatenate([room[nodes_w], t2])

    def _fill_leaves(
        self, lvl: int, members: npt.NDArray[np.intp], room: Ints, units: int, cost: Floats | None
    ) -> Picked:
        """Across the children of one domain: the fewest leaves (whole leaves with the most room first, the
        remainder in the leaf that fits it most tightly); among equal leaves, those in the child domains with
        the most room, so the span at the levels between stays small too."""
        ix = self.index
        leaf_of = ix.ids[ix.leaf][members]
        uniq, inv = np.unique(leaf_of, return_inverse=True)
        lroom = np.bincount(inv, weights=room[members])
        lcost = np.zeros(uniq.size) if cost is None else self._child_cost(inv, cost[members], uniq.size)
        child = ix.parent[ix.leaf][uniq]
        for up in range(ix.leaf + 1, lvl - 1):
            child = ix.parent[up][child]
        croom = np.bincount(child, weights=lroom)[child]
        whole, rest, spare = _whole_then_rest(np.lexsort((uniq, lcost, -croom, -lroom)), lroom, units)
        used = np.isin(child[spare], child[whole])  # the remainder stays in a child domain already used if it can
        last = int(spare[np.lexsort((lcost[spare], lroom[spare], ~used))[0]])
        nodes_w = members[np.isin(inv, whole)]
        n2, t2 = self._fill(ix.leaf, members[inv == last], room, rest, cost)
        return np.concatenate([nodes_w, n2]), np.concatenate([room[nodes_w], t2])

    @staticmethod
    def _child_cost(inv: npt.NDArray[np.intp], cost: Floats, n: int) -> Floats:
        out = np.full(n, np.inf)
        np.minimum.at(out, inv, cost)
        return out

    def _segments(
        self, room: Ints, units: int, seg: int, top: int, cost: Floats | None, fewest: bool = False
    ) -> Picked | None:
        """--segment: whole groups of ``seg`` nodes per block; best fit in the lowest domain that holds them, or with
        ``fewest`` (--switches within its wait) the fewest blocks anywhere, each over the fewest leaves."""
        ix, s = self.index, self.seg_level
        if units % seg:
            return None
        per_block = (ix.sums(s, room) // seg).astype(np.int64)
        rep = np.zeros(ix.counts[s], dtype=np.intp)
        rep[ix.ids[s][::-1]] = np.arange(ix.n - 1, -1, -1)  # the first node of each block stands for it
        vroom = np.zeros(ix.n, dtype=np.int64)
        vroom[rep] = per_block
        hi = max(s, top)
        if fewest and hi == ix.top:  # as the unsegmented re-pick: whole blocks with the most segments first
            if int(vroom.sum()) < units // seg:
                return None
            picked: Picked | None = self._fill(hi, np.flatnonzero(vroom > 0), vroom, units // seg, None)
        else:  # within one domain below the top (separate fabrics, a required level): the fewest blocks there
            picked = self._pick(vroom, units // seg, s, hi, None)
        if picked is None:
            return None
        parts = [
            self._fill(s, np.flatnonzero((ix.ids[s] == ix.ids[s][node]) & (room > 0)), room, int(n_seg) * seg, cost)
            for node, n_seg in zip(picked[0], picked[1], strict=True)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _whole_then_rest(
    order: npt.NDArray[np.intp], room: npt.NDArray[Any], units: int
) -> tuple[npt.NDArray[np.intp], int, npt.NDArray[np.intp]]:
    """Groups taken whole in ``order`` until the remainder fits in one more: (whole, remainder, the groups
    that could take the remainder)."""
    cum = np.cumsum(room[order])
    k = int(np.searchsorted(cum, units))
    rest = units - (int(cum[k - 1]) if k else 0)
    spare = order[k:]
    return order[:k], rest, spare[room[spare] >= rest]

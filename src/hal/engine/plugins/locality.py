"""Data locality: what staging a job's inputs to each node would cost, from replicas and the topology.

A pure view the shell keeps in step with the data plane's catalog: dataset sizes, replicas in node caches
(a boolean mask per dataset) and replicas in storage attached to a domain (a rack's or site's file
system, a cloud bucket = a cloud site). The transfer model gives bandwidth and latency per topology level
and an egress price per GB for bytes leaving a cloud site. A copy the topology does not place (the origin, a
mirror named by a plain name) is a source too: the farthest transfer, never priced, as a stage-in may read it
beside every placed copy. Everything is numpy over nodes. The shell gives the engine's jobs running now
(``running``, made by ``busy_of``: the live controller's and the simulator's alike), from which delay scheduling
predicts when nodes near the data free up (engine/plugins/data_delay.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.plugins.topology import TopoIndex

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
GB = 1e9
Busy = tuple[Sequence[int], Sequence[int], float]  # a running job: its nodes, the CPUs it holds on each, expected end
Source = int | tuple[int, int] | None  # a copy: a node's cache, a (level, domain)'s storage, or off the tree


def domain_name(label: str) -> str:
    """A domain's own name from the index's label, which below the top is its path (``site0/rack0`` -> ``rack0``):
    what `hal dataset add-copy --location` and ``egress_per_gb`` name it by."""
    return label.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class TransferModel:
    """Bandwidth (bytes/s) and latency (s) per topology level, finest first: index 0 is a node's own cache
    (free), 1 the leaf switch, ..., the last entry repeats for higher levels. ``egress_per_gb`` prices bytes
    leaving a domain of ``egress_level`` (cloud sites), by the domain's label."""

    bandwidth: tuple[float, ...] = (float("inf"), 2.5e9, 1.25e9, 1.25e8)
    latency: tuple[float, ...] = (0.0, 1e-4, 1e-3, 0.05)
    egress_per_gb: dict[str, float] = field(default_factory=dict)
    egress_level: str = "site"
    value_scale: float = 300.0  # seconds at which the normalized data cost reaches 0.5
    dollars_per_hour: float = 10.0  # turns egress dollars into seconds of equivalent delay
    local_level: int = 0  # "data-local" for delay scheduling: every input within this level (0: cached on the node)

    def at(self, table: tuple[float, ...], level: int) -> float:
        return table[min(level, len(table) - 1)]


@dataclass(slots=True)
class NodeCosts:
    """Per node: seconds to stage all inputs, bytes that would move, egress dollars, the worst level crossed."""

    seconds: Floats
    bytes: Floats
    dollars: Floats
    level: npt.NDArray[np.int64]
    wide: Floats  # bytes that would cross a leaf domain's boundary (the site network or the WAN)


@dataclass(frozen=True, slots=True)
class _Answer:
    norm: Floats
    local: Bools
    total: Floats
    costs: NodeCosts


class Locality:
    """Replica locations and the cost of bringing datasets to nodes; implements the selector's DataCost."""

    def __init__(self, index: TopoIndex, model: TransferModel | None = None) -> None:
        self.index = index
        self.model = model or TransferModel()
        self.sizes: dict[str, float] = {}
        self.cached: dict[str, Bools] = {}
        self.stored: dict[str, set[tuple[int, int]]] = {}
        self.remote: dict[str, set[str]] = {}  # copies the topology does not place (the origin), by location
        self.version = 0  # bumped on every replica change; normalized() answers are memoized per version
        self._memo: dict[tuple[str, ...], _Answer] = {}
        self.running: Callable[[], Iterable[Busy]] | None = None  # the engine's jobs running now (``busy_of``)
        self._memo_version = -1
        # per node, bytes its cache has free now and once unpinned datasets are evicted (live: pins)
        self.cache_room: Callable[[], tuple[Floats, Floats]] | None = None
        lvl = index.level(self.model.egress_level)
        self.egress_level = lvl if lvl is not None else index.top
        labels = index.labels[self.egress_level]
        prices = self.model.egress_per_gb  # by the domain's name or its path (below the top, labels are paths)
        self.price = np.array([prices.get(lab, prices.get(domain_name(lab), 0.0)) for lab in labels])
        m, levels = self.model, range(index.top + 2)
        self._bw = np.array([m.at(m.bandwidth, lv) for lv in levels])  # bytes/s and latency per level crossed
        self._lat = np.array([m.at(m.latency, lv) for lv in levels])

    # ---- keeping in step with the catalog --------------------------------------------------------
    def dataset(self, name: str, size: float) -> None:
        self.sizes[name] = float(size)
        self.cached.setdefault(name, np.zeros(self.index.n, dtype=bool))
        self.stored.setdefault(name, set())
        self.remote.setdefault(name, set())

    def add_node_replica(self, name: str, node: int) -> None:
        self.cached[name][node] = True
        self.version += 1

    def drop_node_replica(self, name: str, node: int) -> None:
        self.cached[name][node] = False
        self.version += 1

    def storage_domain(self, level: str, label: str) -> tuple[int, int] | None:
        """The (level, domain) ids of ``level=label``: the domain's own name (``rack0``, as `hal dataset add-copy`
        checks it) or its path (``site0/rack0``, the index's label below the top). QA: a rack's copy was taken
        by add-copy and dropped here, so the score priced its dataset as held nowhere."""
        lvl = self.index.level(level)
        if lvl is None:
            return None
        labels = self.index.labels[lvl]
        if label in labels:
            return lvl, labels.index(label)
        named = [k for k, lab in enumerate(labels) if domain_name(lab) == label]
        return (lvl, named[0]) if len(named) == 1 else None

    def add_storage_replica(self, name: str, level: str, label: str) -> None:
        where = self.storage_domain(level, label)
        if where is None:
            raise ValueError(f"unknown storage location {level}={label!r}")
        self.stored[name].add(where)
        self.version += 1

    def add_domain_replica(self, name: str, level: int, domain: int) -> None:
        """A copy held by a domain's storage (a rack's cache, a site's file system), by integer ids."""
        self.stored[name].add((level, domain))
        self.version += 1

    def drop_domain_replica(self, name: str, level: int, domain: int) -> None:
        self.stored[name].discard((level, domain))
        self.version += 1

    def add_remote_replica(self, name: str, location: str) -> None:
        """A copy at a location the topology does not place (the origin, a plain-named mirror): the farthest
        transfer, unpriced. QA: it was counted only while no other copy existed, so registering a cloud mirror
        priced on-site nodes its egress although the stage-in could read the origin for nothing."""
        self.remote[name].add(location)
        self.version += 1

    def drop_remote_replica(self, name: str, location: str) -> None:
        self.remote.setdefault(name, set()).discard(location)
        self.version += 1

    def running_ends(self, now: float) -> dict[int, list[tuple[float, int]]]:
        """Per node, (expected end, cpus) of the jobs running there, read from the engine at each decision: a job
        cancelled or ended early is gone at once (QA: the gate waited for a cancelled job's time limit), an end
        already past is kept (the job outlived its estimate). Nothing is known busy without ``running``. The
        simulator recorded its starts instead, and a job ended before its limit still held its nodes there."""
        got: dict[int, list[tuple[float, int]]] = {}
        for nodes, cpus, end in self.running() if self.running is not None else ():
            for node, held in zip(nodes, cpus, strict=True):
                got.setdefault(int(node), []).append((float(end), int(held)))
        return got

    def bandwidth(self, level: int) -> tuple[float, float]:
        """(bytes/s, latency s) of a copy crossing ``level``."""
        return self.model.at(self.model.bandwidth, level), self.model.at(self.model.latency, level)

    # ---- costs -----------------------------------------------------------------------------------
    def _levels_from(self, inside: Bools) -> npt.NDArray[np.int64]:
        """Per node, the lowest level at which some node of ``inside`` shares a domain (top+1 if none)."""
        ix = self.index
        out = np.full(ix.n, ix.top + 1, dtype=np.int64)
        if not inside.any():
            return out
        out[inside] = 0
        for lvl in range(1, ix.top + 1):
            has = np.bincount(ix.ids[lvl], weights=inside, minlength=ix.counts[lvl]) > 0
            out = np.where((out > lvl) & has[ix.ids[lvl]], lvl, out)
        return out

    def _one(self, name: str) -> tuple[Floats, Floats, Floats, npt.NDArray[np.int64]]:
        """The cheapest source per node for one dataset: (seconds, bytes moved, egress dollars, level)."""
        ix, size = self.index, self.sizes[name]
        site = ix.ids[self.egress_level]
        cached = self.cached[name]
        sources: list[tuple[Bools | None, int]] = [(cached & (site == s), 0) for s in np.unique(site[cached])]
        sources += [(ix.ids[lvl] == dom, lvl) for lvl, dom in self.stored[name]]
        if not sources or self.remote.get(name):  # off the tree (the origin), or no known copy: the farthest
            sources.append((None, ix.top + 1))
        best = np.full(ix.n, np.inf)
        out_s, out_d = np.zeros(ix.n), np.zeros(ix.n)
        out_l = np.zeros(ix.n, dtype=np.int64)
        for inside, floor in sources:
            secs, dollars, level = self._from(size, inside, floor)
            total = self.as_seconds(secs, dollars)
            better = total < best
            best = np.where(better, total, best)
            out_s, out_d, out_l = (
                np.where(better, secs, out_s),
                np.where(better, dollars, out_d),
                np.where(better, level, out_l),
            )
        return out_s, np.where(out_l == 0, 0.0, size), out_d, out_l

    def _from(self, size: float, inside: Bools | None, floor: int) -> tuple[Floats, Floats, npt.NDArray[np.int64]]:
        """Per node, (seconds, egress dollars, level) of a copy from the nodes ``inside`` (a cache, or the storage
        of a domain of level ``floor``), or, with ``inside`` None, from off the tree: the farthest, unpriced."""
        ix = self.index
        if inside is None:
            level = np.full(ix.n, ix.top + 1, dtype=np.int64)
            dollars = np.zeros(ix.n)
        else:
            # storage attached to a domain serves its nodes over that domain's network, never for free
            level = np.maximum(self._levels_from(inside), max(floor, 1) if floor else 0)
            site = ix.ids[self.egress_level]
            src_site = int(site[np.flatnonzero(inside)[0]])
            dollars = np.where(site != src_site, self.price[src_site] * size / GB, 0.0)
        bw, lat = self._bw, self._lat
        return np.where(level == 0, 0.0, size / bw[level] + lat[level]), dollars, level

    def as_seconds(self, seconds: Floats, dollars: Floats) -> Floats:
        """Stage-in seconds plus egress dollars priced in seconds (``dollars_per_hour``): what the score adds."""
        return seconds + dollars * 3600.0 / max(self.model.dollars_per_hour, 1e-9)

    def copy_cost(self, name: str, source: Source, node: int) -> float:
        """What reading one copy into ``node`` costs, as the score prices it (seconds plus egress as seconds), so
        the stager reads the copy the placement counted on (hal.data.sources.cheapest_first)."""
        size = self.sizes.get(name, GB)
        if source is None:
            inside, floor = None, self.index.top + 1
        elif isinstance(source, tuple):
            inside, floor = self.index.ids[source[0]] == source[1], source[0]
        else:
            inside, floor = np.arange(self.index.n) == source, 0
        secs, dollars, _ = self._from(size, inside, floor)
        return float(self.as_seconds(secs[node : node + 1], dollars[node : node + 1])[0])

    def costs(self, inputs: tuple[str, ...]) -> NodeCosts:
        n, leaf = self.index.n, self.index.leaf
        secs, moved, dollars, wide = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        worst = np.zeros(n, dtype=np.int64)
        for name in inputs:
            if name not in self.sizes:
                continue
            s, b, d, lv = self._one(name)
            secs, moved, dollars, worst = secs + s, moved + b, dollars + d, np.maximum(worst, lv)
            wide += np.where(lv > leaf, b, 0.0)
        return NodeCosts(secs, moved, dollars, worst, wide)

    def normalized(self, inputs: tuple[str, ...]) -> tuple[Floats, Bools]:
        """Cost in [0, 1) per node (seconds plus egress as seconds, saturating at ``value_scale``) and the
        data-local mask for delay scheduling: nodes as close to the data as the best node anywhere (or within
        ``local_level``), so a job whose data is cached nowhere never waits for locality."""
        a = self._memoized(inputs)
        return a.norm, a.local

    def stage_seconds(self, inputs: tuple[str, ...]) -> Floats:
        """Per node: stage-in seconds plus egress dollars as seconds (what delay scheduling may wait for)."""
        return self._memoized(inputs).total

    def fits(self, inputs: tuple[str, ...]) -> list[Bools]:
        """Nodes whose caches can take the bytes of the inputs they lack, most preferred first: as they are (no
        other dataset evicted, so its replica stays), then once the unpinned datasets are evicted (a node whose
        cache is held by running jobs' inputs would send the job back to wait). Empty: no cache limits known."""
        if self.cache_room is None:
            return []
        free, evictable = self.cache_room()
        need = self._memoized(inputs).costs.bytes
        return [need <= free, need <= evictable]

    def node_costs(self, inputs: tuple[str, ...]) -> NodeCosts:
        """``costs`` memoized until the next replica change."""
        return self._memoized(inputs).costs

    def _memoized(self, inputs: tuple[str, ...]) -> _Answer:
        if self._memo_version != self.version:
            self._memo.clear()
            self._memo_version = self.version
        hit = self._memo.get(inputs)
        if hit is not None:
            return hit
        c = self.costs(inputs)
        m = self.model
        total = self.as_seconds(c.seconds, c.dollars)
        local = c.level <= max(m.local_level, int(c.level.min()) if c.level.size else 0)
        answer = _Answer(total / (total + m.value_scale), local, total, c)
        self._memo[inputs] = answer
        return answer


def busy_of(jobs: Callable[[], Iterable[Any]]) -> Callable[[], Iterator[Busy]]:
    """The engine's running jobs (``Active`` records, read from ``jobs`` at each call) as ``Locality.running``: their
    nodes (an --exclusive=topo job's held blocks too), the CPUs they hold on each and their predicted end. The live
    controller and the simulator give their scheduler's, so delay scheduling predicts alike on both clocks."""

    def running() -> Iterator[Busy]:
        for act in jobs():
            if act.released:
                continue
            for alloc in (act.alloc, getattr(act.alloc, "held", None)):
                if alloc is not None and hasattr(alloc, "nodes"):
                    yield alloc.nodes.tolist(), alloc.amounts[:, 0].tolist(), float(act.predicted_end)

    return running

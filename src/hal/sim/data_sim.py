"""Data-heavy workloads for the simulator: Zipf-popular datasets (MB to TB), and staging with node caches.

``DataWorkload`` generates datasets with homes (site storage or a cloud bucket) and jobs reading one to
three of them; ``SimStaging`` is the placement simulator's on-start hook: it charges each job the stage-in
time of its inputs on its nodes (from the locality cost model), counts bytes moved and egress dollars,
and keeps simulated node caches with LRU eviction in step with the engine's locality view.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from hal.engine.plugins.locality import Locality
from hal.model.job import JobSpec
from hal.model.resources import Resources


@dataclass(frozen=True, slots=True)
class DataShape:
    jobs: int = 4000
    datasets: int = 200
    zipf: float = 1.1  # popularity exponent: dataset of rank r is read with weight r**-zipf
    min_size: float = 1e6
    max_size: float = 1e12
    cloud_share: float = 0.3  # datasets whose home is the cloud bucket
    node_cpus: int = 32
    nodes: int = 96
    load: float = 0.7
    min_run: float = 300.0
    max_run: float = 4 * 3600.0
    seed: int = 7


@dataclass(slots=True)
class DataWorkload:
    sizes: dict[str, float]
    homes: dict[str, str]  # dataset -> site label of its home storage
    jobs: list[JobSpec]


def generate(shape: DataShape, sites: tuple[str, str] = ("onprem", "cloud")) -> DataWorkload:
    rng = np.random.default_rng(shape.seed)
    names = [f"ds{i:04d}" for i in range(shape.datasets)]
    sizes = np.exp(rng.uniform(np.log(shape.min_size), np.log(shape.max_size), shape.datasets))
    homes = np.where(rng.random(shape.datasets) < shape.cloud_share, sites[1], sites[0])
    weights = 1.0 / np.arange(1, shape.datasets + 1) ** shape.zipf
    weights /= weights.sum()
    n = shape.jobs
    run = np.exp(rng.uniform(np.log(shape.min_run), np.log(shape.max_run), n)).round()
    cpus = 2 ** rng.integers(0, int(np.log2(shape.node_cpus)) + 1, n)
    multi = rng.random(n) < 0.1
    nodes = np.where(multi, rng.integers(2, 5, n), 0)
    work = float((run * np.where(multi, nodes * shape.node_cpus, cpus)).sum())
    gaps = rng.exponential(work / (shape.load * shape.nodes * shape.node_cpus) / n, n)
    submit = np.cumsum(gaps).round()
    jobs = []
    for i in range(n):
        k = int(rng.integers(1, 4))
        picked = rng.choice(shape.datasets, size=k, replace=False, p=weights)
        inputs = tuple(names[j] for j in sorted(picked))
        if multi[i]:
            spec = dict(tasks=int(nodes[i]) * shape.node_cpus, nodes=int(nodes[i]), exclusive=True)
        else:
            spec = dict(tasks=int(cpus[i]))
        jobs.append(
            JobSpec(
                job_id=i + 1,
                submit_time=float(submit[i] - submit[0]),
                per_task=Resources(cpus=1),
                time_limit=float(run[i]) * 2,
                runtime=float(run[i]),
                inputs=inputs,
                user=f"u{i % 17}",
                **spec,  # type: ignore[arg-type]
            )
        )
    return DataWorkload(
        dict(zip(names, sizes.tolist(), strict=True)), dict(zip(names, homes.tolist(), strict=True)), jobs
    )


@dataclass(slots=True)
class SimStaging:
    """On-start hook: stage inputs onto the job's nodes through the cost model and simulated LRU caches.

    With ``rack_bytes`` > 0 each rack has storage (a burst buffer): a dataset crosses the expensive levels
    (between racks, between sites) once into the rack, then fans out to the job's nodes over the rack's own
    network; with ``site_bytes`` > 0 a copy that came from another site is also kept in the site's storage,
    so the next rack of that site reads it without a second egress. Bytes are counted per level crossed.
    """

    locality: Locality
    cache_bytes: float
    rack_bytes: float = 0.0
    site_bytes: float = 0.0
    bytes_moved: float = 0.0
    egress_dollars: float = 0.0
    stage_seconds: float = 0.0
    hits: int = 0
    misses: int = 0
    caches: dict[int, OrderedDict[str, float]] = field(default_factory=dict)
    stores: dict[tuple[int, int], OrderedDict[str, float]] = field(default_factory=dict)  # (level, domain)
    by_level: dict[int, float] = field(default_factory=dict)  # bytes moved, by the level they crossed

    def __call__(self, job: JobSpec, nodes: tuple[int, ...], now: float) -> float:
        spent = dict.fromkeys(nodes, 0.0)
        for name in job.inputs:
            for node, secs in self._stage_input(name, nodes).items():
                spent[node] += secs
        worst = max(spent.values(), default=0.0)
        self.stage_seconds += worst
        return worst

    def _stage_input(self, name: str, nodes: tuple[int, ...]) -> dict[int, float]:
        need: list[int] = []
        for node in nodes:
            cache = self.caches.setdefault(node, OrderedDict())
            if name in cache:
                cache.move_to_end(name)
                self.hits += 1
            else:
                need.append(node)
                self.misses += 1
        if not need:
            return {}
        if self.rack_bytes <= 0:  # every node copies from its own cheapest source
            return {node: self._pull(name, node, cache_node=True) for node in need}
        ix = self.locality.index
        racks = ix.ids[ix.leaf]
        out: dict[int, float] = {}
        bw, lat = self.locality.bandwidth(ix.leaf)
        size = self.locality.sizes[name]
        for rack in sorted({int(racks[n]) for n in need}):
            members = [n for n in need if racks[n] == rack]
            into = 0.0
            if not self._rack_holds(name, rack):
                into = self._pull(name, members[0], cache_node=False)
                self._keep((ix.leaf, rack), name, self.rack_bytes)
            for node in members:  # fan-out inside the rack, in parallel
                self._count(ix.leaf, size)
                self._cache_node(name, node)
                out[node] = into + size / bw + lat
        return out

    def _rack_holds(self, name: str, rack: int) -> bool:
        ix = self.locality.index
        if (ix.leaf, rack) in self.locality.stored[name]:
            self.stores[(ix.leaf, rack)].move_to_end(name)
            return True
        return bool(self.locality.cached[name][ix.ids[ix.leaf] == rack].any())

    def _pull(self, name: str, node: int, cache_node: bool) -> float:
        """One copy from the cheapest replica to ``node`` (or to its rack's storage)."""
        secs, moved, dollars, level = self.locality._one(name)
        self._count(int(level[node]), float(moved[node]))
        self.egress_dollars += float(dollars[node])
        if dollars[node] > 0 and self.site_bytes > 0:
            site = int(self.locality.index.ids[self.locality.egress_level][node])
            self._keep((self.locality.egress_level, site), name, self.site_bytes)
        if cache_node:
            self._cache_node(name, node)
        return float(secs[node])

    def _count(self, level: int, nbytes: float) -> None:
        if nbytes > 0:
            self.bytes_moved += nbytes
            self.by_level[level] = self.by_level.get(level, 0.0) + nbytes

    def _cache_node(self, name: str, node: int) -> None:
        cache = self.caches.setdefault(node, OrderedDict())
        size = self.locality.sizes[name]
        if size > self.cache_bytes:
            return
        while sum(cache.values()) + size > self.cache_bytes:
            gone, _ = cache.popitem(last=False)
            self.locality.drop_node_replica(gone, node)
        cache[name] = size
        self.locality.add_node_replica(name, node)

    def _keep(self, where: tuple[int, int], name: str, capacity: float) -> None:
        """An LRU copy in a rack's or site's storage, visible to the engine's locality view."""
        store = self.stores.setdefault(where, OrderedDict())
        size = self.locality.sizes[name]
        if name in store or where in self.locality.stored[name] or size > capacity:
            return  # already there (the dataset's home storage is never evicted)
        while sum(store.values()) + size > capacity:
            gone, _ = store.popitem(last=False)
            self.locality.drop_domain_replica(gone, *where)
        store[name] = size
        self.locality.add_domain_replica(name, *where)

    def report(self) -> dict[str, float]:
        ix = self.locality.index
        wide = sum(b for lvl, b in self.by_level.items() if lvl > ix.leaf)
        return {
            "bytes_moved_TB": self.bytes_moved / 1e12,
            "wide_TB": wide / 1e12,  # bytes that crossed a rack boundary (site network or WAN)
            "wan_TB": sum(b for lvl, b in self.by_level.items() if lvl > self.locality.egress_level) / 1e12,
            "egress_dollars": self.egress_dollars,
            "stage_hours": self.stage_seconds / 3600.0,
            "hit_rate": self.hits / max(1, self.hits + self.misses),
        }

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

from hal.engine.plugins.locality import GB, Locality
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
    """On-start hook: stage inputs onto the job's nodes through the cost model and simulated LRU caches."""

    locality: Locality
    cache_bytes: float
    bytes_moved: float = 0.0
    egress_dollars: float = 0.0
    stage_seconds: float = 0.0
    hits: int = 0
    misses: int = 0
    caches: dict[int, OrderedDict[str, float]] = field(default_factory=dict)

    def __call__(self, job: JobSpec, nodes: tuple[int, ...], now: float) -> float:
        worst = 0.0
        for node in nodes:
            spent = 0.0
            for name in job.inputs:
                spent += self._stage(name, node)
            worst = max(worst, spent)
        self.stage_seconds += worst
        return worst

    def _stage(self, name: str, node: int) -> float:
        cache = self.caches.setdefault(node, OrderedDict())
        if name in cache:
            cache.move_to_end(name)
            self.hits += 1
            return 0.0
        self.misses += 1
        secs, moved, dollars, _ = self.locality._one(name)
        self.bytes_moved += float(moved[node])
        self.egress_dollars += float(dollars[node])
        size = self.locality.sizes[name]
        if size <= self.cache_bytes:
            while sum(cache.values()) + size > self.cache_bytes:
                gone, _ = cache.popitem(last=False)
                self.locality.drop_node_replica(gone, node)
            cache[name] = size
            self.locality.add_node_replica(name, node)
        return float(secs[node])

    def report(self) -> dict[str, float]:
        return {
            "bytes_moved_TB": self.bytes_moved / 1e12,
            "egress_dollars": self.egress_dollars,
            "stage_hours": self.stage_seconds / 3600.0,
            "hit_rate": self.hits / max(1, self.hits + self.misses),
            "egress_TB": self.egress_dollars / max(1e-9, self._price()) * GB / 1e12 if self._price() else 0.0,
        }

    def _price(self) -> float:
        return float(self.locality.price.max()) if self.locality.price.size else 0.0

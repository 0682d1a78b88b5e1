"""The machine the controller runs jobs on: nodes from the cluster TOML, their host CPU sets, and which
CPU and GPU ids each running job holds on each node."""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hal import clusterfile
from hal.clusterfile import ClusterFileError, NamedError, cluster_from_dict, group_size
from hal.engine.nodes import NodeAlloc
from hal.executors.api import NodeShare
from hal.executors.hostlist import compress, expand
from hal.executors.jobenv import ADDR_KIND
from hal.model.cluster import Cluster, NodeTable
from hal.model.resources import BASE_NAMES
from hal.model.topology import Topology
from hal.textfile import read_text

Held = list[tuple[int, list[int], list[int]]]  # a running job's (node, cpu slots, gpu ids) on each of its nodes


def host_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def host_mem_mb() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 4096


def parse_cpuset(value: Any) -> list[int]:
    """``"0-3,6"`` or ``[0, 1]`` into CPU ids (ValueError naming the key when malformed)."""
    return clusterfile.parse_cpuset(value)


def cpu_ranges(ids: list[int]) -> str:
    """``[0, 1, 2, 5]`` as ``0-2,5``."""
    out: list[str] = []
    for cpu in sorted(set(ids)):
        if out and out[-1].rpartition("-")[2] == str(cpu - 1):
            out[-1] = f"{out[-1].partition('-')[0]}-{cpu}"
        else:
            out.append(str(cpu))
    return ",".join(out) or "none"


def default_cluster_dict() -> dict[str, Any]:
    """This machine as one node, keeping a tenth of the memory for the system."""
    return {
        "name": "local",
        "nodes": [
            {
                "prefix": socket.gethostname().split(".")[0] or "local",
                "count": 1,
                "cpus": len(host_cpus()),
                "mem": int(host_mem_mb() * 0.9),
                "partitions": ["batch"],
            }
        ],
        "partitions": [{"name": "batch", "default": True}],
    }


@dataclass(slots=True)
class Machine:
    cluster: Cluster
    cpusets: list[list[int]]  # host CPU ids per node; a node's k-th cpu slot runs on cpusets[k % len]
    source: str = "embedded default"
    used_cpus: list[set[int]] = field(default_factory=list)
    used_gpus: list[set[int]] = field(default_factory=list)
    holdings: dict[int, Held] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)  # node name -> its row
    flat: bool = False  # no topology: the cluster file has no [topology] table (Topology.flat's one switch)

    def __post_init__(self) -> None:
        n = len(self.cluster.nodes)
        self.used_cpus = [set() for _ in range(n)]
        self.used_gpus = [set() for _ in range(n)]
        self.index = {node.name: i for i, node in enumerate(self.cluster.nodes)}
        self.flat = self.cluster.topology == Topology.flat(n)

    @staticmethod
    def load(path: str | Path | None) -> Machine:
        if path is None:
            data = default_cluster_dict()
            source = "embedded default (this machine as one node)"
        else:
            text = read_text(Path(path), "cluster file", ClusterFileError, undecodable="not valid TOML")  # a BOM too
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ClusterFileError(f"{path}: not valid TOML: {exc}") from exc
            source = str(path)
        try:
            cluster = cluster_from_dict(data, Path(path).parent if path is not None else None)
        except ClusterFileError as exc:  # named with the file, as hal simulate's load_cluster names it
            if path is None or isinstance(exc, NamedError):  # topology.conf's name their own file and line
                raise
            raise ClusterFileError(f"{path}: {exc}") from None
        return Machine(cluster, _cpusets(data, len(cluster.nodes)), source)

    def table(self) -> NodeTable:
        return NodeTable.of(self.cluster)

    @property
    def members(self) -> dict[str, tuple[str, ...]]:
        """Each partition's node names."""
        return {p.name: p.nodes for p in self.cluster.partitions}

    def topology_addrs(self, nodes: list[str]) -> dict[str, list[str]]:
        """Each node's domains from the top down, for its SLURM_TOPOLOGY_ADDR, as Slurm's topology plugins set it:
        its switches under topology/tree (``top.s1.n05``); its block under topology/block (``b1.n05``, pattern
        ``block.node``; QA: a block topology gave nothing); none without a topology (topology/flat: ``n05``,
        pattern ``node``; HAL's one implicit switch ``sw0`` is not Slurm's). A node in no switch or block has
        none, and is left out (the map goes into the job's environment: a big job's must stay small); the
        ADDR_KIND entry names the domains' kind. A branch of topology.conf shallower than the rest repeats its top
        switch in HAL's levels; Slurm names each switch once (QA: ``top.top.s2.n09``,
        ``switch.switch.switch.node``). Levels/fanouts whose finest level is named ``block`` are neither: {}."""
        topo = self.cluster.topology
        if topo is None or self.flat:
            return {ADDR_KIND: ["switch"]}
        if not topo.block_nodes and topo.outside_of != "switch":
            return {}
        rows = [(n, self.index[n]) for n in nodes]
        if topo.block_nodes:  # the base blocks are the finest level; the aggregations above are not in Slurm's
            blocks = {n: [topo.paths[i][-1]] for n, i in rows if i not in topo.outside}
            return {**blocks, ADDR_KIND: ["block"]}
        return {**{n: switch_chain(topo.paths[i]) for n, i in rows if i not in topo.outside}, ADDR_KIND: ["switch"]}

    def assign(self, job_id: int, alloc: NodeAlloc) -> Held:
        """Pick free cpu and gpu slots on each allocated node; returns (node, cpu slots, gpu ids)."""
        held = []
        for node, amount in zip(alloc.nodes.tolist(), alloc.amounts.tolist(), strict=True):
            cap = self.cluster.nodes[node].capacity
            cpus = [k for k in range(cap.cpus) if k not in self.used_cpus[node]][: amount[0]]
            gpus = [k for k in range(cap.gpus) if k not in self.used_gpus[node]][: amount[2]]
            held.append((int(node), cpus, gpus))
        self.restore(job_id, held)
        return held

    def restore(self, job_id: int, held: Held) -> None:
        for node, cpus, gpus in held:
            self.used_cpus[node].update(cpus)
            self.used_gpus[node].update(gpus)
        self.holdings[job_id] = held

    def reclaim(
        self, nodelist: str, held: Held, amounts: np.ndarray, free: np.ndarray
    ) -> tuple[Held, np.ndarray] | str:
        """At a restart, a running job's stored holdings laid onto this cluster file (its nodes' indices here, its
        amounts in this file's resource columns), or why it cannot keep them: a node no longer in the file, or one
        that shrank below what the job holds there (CPU or GPU ids the node no longer has, more than the jobs
        restored before it left in ``free``). Slurm fails such jobs NODE_FAIL when it reads a changed slurm.conf.
        Nodes are found by name: the stored indices are the old file's, and a node removed before them moved the
        rest (their order in the file is assumed kept; ``nodelist`` names them, not in ``held``'s order)."""
        index = self.index
        try:
            names = expand(nodelist)
        except ValueError:
            names = []
        if len(names) != len(held):  # no usable names in the record: its indices are all there is
            names = [self.cluster.nodes[n].name if 0 <= n < len(index) else f"#{n}" for n, _, _ in held]
        gone = [n for n in names if n not in index]
        if gone:
            some = ("nodes", "are") if len(gone) > 1 else ("node", "is")
            return f"{some[0]} {compress(gone)} {some[1]} no longer in the cluster file"
        moved = sorted(index[n] for n in names)  # the k-th lowest stored index is the k-th lowest here
        rank = {k: i for i, k in enumerate(sorted(range(len(held)), key=lambda k: held[k][0]))}
        placed: Held = [(moved[rank[k]], cpus, gpus) for k, (_, cpus, gpus) in enumerate(held)]
        stored = np.asarray(amounts, dtype=np.int64).reshape(len(held), -1)
        width = free.shape[1]
        same = width if stored.shape[1] == width else len(BASE_NAMES)  # extra resources came or went: only the
        out = np.zeros((len(held), width), dtype=np.int64)  # base columns surely mean the same (jobs ask for no
        out[:, :same] = stored[:, :same]  # extras; an --exclusive job's were its node's)
        for (node, cpus, gpus), amount in zip(placed, out, strict=True):
            why = self._short(node, cpus, gpus, amount, free[node])
            if why:
                return f"node {self.cluster.nodes[node].name} shrank below what the job holds there ({why})"
        return placed, out

    def _short(self, node: int, cpus: list[int], gpus: list[int], amount: np.ndarray, free: np.ndarray) -> str:
        """What of its share a restored job finds missing on a node, or ""."""
        cap = self.cluster.nodes[node].capacity
        if cpus and max(cpus) >= cap.cpus:
            return f"its CPU {max(cpus)}; the node has {cap.cpus} CPU{'s' * (cap.cpus != 1)} now"
        if gpus and max(gpus) >= cap.gpus:
            return f"its GPU {max(gpus)}; the node has {cap.gpus} GPU{'s' * (cap.gpus != 1)} now"
        over = np.flatnonzero(amount > free).tolist()
        if not over:
            return ""
        k, space = over[0], self.cluster.space
        label = {"cpus": "CPUs", "mem_mb": "MB of memory", "gpus": "GPUs"}.get(space.names[k], space.names[k])
        has = int(space.vector(cap)[k])
        if has > free[k]:
            return f"{int(amount[k])} {label}; {max(int(free[k]), 0)} of its {has} left beside jobs restored before it"
        return f"{int(amount[k])} {label}; the node has {has} now"

    def release(self, job_id: int) -> None:
        for node, cpus, gpus in self.holdings.pop(job_id, []):
            self.used_cpus[node].difference_update(cpus)
            self.used_gpus[node].difference_update(gpus)

    def shares(self, held: Held, amounts: np.ndarray) -> tuple[NodeShare, ...]:
        out = []
        for (node, slots, gpus), amount in zip(held, amounts.tolist(), strict=True):
            cpuset = self.cpusets[node]
            host = tuple(sorted({cpuset[k % len(cpuset)] for k in slots})) or tuple(cpuset)
            spec = self.cluster.nodes[node]
            kind = next((f.removeprefix("gpu:") for f in spec.features if f.startswith("gpu:")), "")
            out.append(NodeShare(spec.name, host, int(amount[1]), tuple(gpus), len(slots), kind, spec.capacity.gpus))
        return tuple(out)


def _cpusets(data: dict[str, Any], n_nodes: int) -> list[list[int]]:
    """Each group's ``cpuset`` when given; otherwise host CPUs dealt to nodes in turn. A cpuset naming CPUs this
    host does not let us use is refused here, at start (every job there failed to pin, while the node looked idle)."""
    host = host_cpus()
    sets: list[list[int] | None] = []
    for i, group in enumerate(data.get("nodes", [])):
        count = group_size(group)
        given = group.get("cpuset")
        where = f"[[nodes]] #{i + 1}"
        try:
            cpus = parse_cpuset(given) if given is not None else None
        except ValueError as exc:
            raise ClusterFileError(f"{where}: {exc}") from None
        missing = sorted(set(cpus or ()) - set(host))
        if missing:
            some = "CPU" if len(missing) == 1 else "CPUs"
            raise ClusterFileError(
                f"{where}: cpuset names {some} {cpu_ranges(missing)}; this host has CPUs {cpu_ranges(host)}"
            )
        sets.extend([cpus] * count)
    out: list[list[int]] = []
    for i, cs in enumerate(sets[:n_nodes]):
        if cs:
            out.append(cs)
        else:
            share = max(1, len(host) // n_nodes)
            start = (i * share) % len(host)
            out.append([host[(start + k) % len(host)] for k in range(share)])
    return out


def switch_chain(path: tuple[str, ...]) -> list[str]:
    """A node's switches from the top, each once: HAL pads a shallow branch by repeating its top switch."""
    return [name for k, name in enumerate(path) if k == 0 or name != path[k - 1]]

"""Cluster files for tests: one group of identical nodes, its partitions and a switch tree."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from hal.sim.generate import WorkloadShape, generate
from hal.sim.swf import write_swf


def cluster_toml(
    *,
    name: str,
    nodes: int,
    cpus: int,
    prefix: str = "n",
    mem: str | None = None,
    features: Sequence[str] = (),
    partitions: Sequence[str] = (),
    topology: Mapping[str, int] | None = None,
) -> str:
    """The TOML of ``nodes`` nodes ``prefix``000.. of ``cpus`` CPUs each, in every one of ``partitions`` (the first
    is the default; none: the file names none, and every node is in ``batch``), under ``topology``: each level of
    the tree, top down, and its fanout (``{"rack": 2, "switch": 2}``: racks of 2 switches of 2 nodes)."""
    lines = [f"name = {json.dumps(name)}", "[[nodes]]", f"prefix = {json.dumps(prefix)}", f"count = {nodes}"]
    lines.append(f"cpus = {cpus}")
    if mem is not None:
        lines.append(f"mem = {json.dumps(mem)}")
    if features:
        lines.append(f"features = {json.dumps(list(features))}")
    if partitions:
        lines.append(f"partitions = {json.dumps(list(partitions))}")
    for i, part in enumerate(partitions):
        lines += ["[[partitions]]", f"name = {json.dumps(part)}"] + (["default = true"] if i == 0 else [])
    if topology is not None:
        lines += ["[topology]", f"levels = {json.dumps(list(topology))}"]
        lines.append(f"fanouts = {json.dumps(list(topology.values()))}")
    return "\n".join(lines) + "\n"


def switch_tree(name: str, prefix: str, count: int, cpus: int, mem: str, fanout: int) -> str:
    """The TOML of ``count`` nodes in one default partition ``batch``, ``fanout`` nodes per leaf switch."""
    return cluster_toml(
        name=name, nodes=count, cpus=cpus, prefix=prefix, mem=mem, partitions=["batch"], topology={"switch": fanout}
    )


def trace_and_cluster(tmp: Path, cluster: str, shape: WorkloadShape) -> tuple[Path, Path]:
    """A generated SWF trace and a cluster file, written under ``tmp``."""
    trace = tmp / "t.swf"
    write_swf(trace, generate(shape))
    path = tmp / "cluster.toml"
    path.write_text(cluster, encoding="utf-8")
    return trace, path

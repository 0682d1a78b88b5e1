"""Cluster files for tests: one partition of identical nodes under a one-level switch tree."""

from __future__ import annotations

from pathlib import Path

from hal.sim.generate import WorkloadShape, generate
from hal.sim.swf import write_swf


def switch_tree(name: str, prefix: str, count: int, cpus: int, mem: str, fanout: int) -> str:
    """The TOML of ``count`` nodes in one default partition ``batch``, ``fanout`` nodes per leaf switch."""
    return f"""name = "{name}"
[[nodes]]
prefix = "{prefix}"
count = {count}
cpus = {cpus}
mem = "{mem}"
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
[topology]
levels = ["switch"]
fanouts = [{fanout}]
"""


def trace_and_cluster(tmp: Path, cluster: str, shape: WorkloadShape) -> tuple[Path, Path]:
    """A generated SWF trace and a cluster file, written under ``tmp``."""
    trace = tmp / "t.swf"
    write_swf(trace, generate(shape))
    path = tmp / "cluster.toml"
    path.write_text(cluster, encoding="utf-8")
    return trace, path

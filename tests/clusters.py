"""Cluster files for tests: one partition of identical nodes under a one-level switch tree."""

from __future__ import annotations


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

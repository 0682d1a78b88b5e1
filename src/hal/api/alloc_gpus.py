"""The types of the GPUs a started job holds, for AllocTRES's gres/gpu:TYPE=N: Slurm records the allocated GPUs'
type even when the request named none (QA: --gpus=2 on an a100 node showed gres/gpu=2 alone, and a job over a100
and h100 nodes no types). The stored allocation has each node's index and amounts; the types are the cluster
file's (gpu_type = "a100" is the node feature gpu:a100)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hal.controller.core import Controller
from hal.controller.jobs import Row

GPU = "gpu:"


def node_gpu_types(ctl: Controller) -> list[str]:
    """Each node's GPU type, in the cluster's node order (the allocation's node indexes); "" for none."""
    return [next((f.removeprefix(GPU) for f in n.features if f.startswith(GPU)), "") for n in ctl.machine.cluster.nodes]


def held_gpu_types(alloc: str | None, kinds: Sequence[str]) -> dict[str, int]:
    """GPUs held by type, from a stored allocation (``held``: node index first; ``amounts``: GPUs third)."""
    if not alloc:
        return {}
    data = json.loads(alloc)
    out: dict[str, int] = {}
    for (node, *_), row in zip(data.get("held") or [], data.get("amounts") or [], strict=False):
        kind = kinds[int(node)] if 0 <= int(node) < len(kinds) else ""
        if kind and int(row[2]):
            out[kind] = out.get(kind, 0) + int(row[2])
    return dict(sorted(out.items()))


def alloc_gpu_types(ctl: Controller, rows: Sequence[Row], recs: Sequence[dict[str, Any]]) -> None:
    """Each record's ``alloc_gpu_types`` ({"a100": 2}; {} with no typed GPU held or nothing held yet)."""
    kinds = node_gpu_types(ctl)
    for row, rec in zip(rows, recs, strict=True):
        rec["alloc_gpu_types"] = held_gpu_types(row.get("alloc"), kinds) if rec.get("alloc_gpus") else {}

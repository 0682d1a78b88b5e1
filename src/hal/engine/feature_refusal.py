"""What a refusal says when no node of the partition has what a job asks for: its -C features and its GPU type.

The GPU type of --gres=gpu:h100:2 (or --gpus=h100:2) reaches the engine as the node feature gpu:h100, but it is
no -C feature of the job: it is said as Slurm says GPUs, "h100 GPUs" (QA: `hal update Features=a100` on such a
job said no node "has the features ['a100', 'gpu:h100']")."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from hal.engine.request import Request
from hal.model.cluster import NodeTable

GPU = "gpu:"


def featureless(table: NodeTable, req: Request, having: Callable[[str], npt.NDArray[np.bool_]]) -> str:
    """No node of the partition has the features and GPU type: say which partitions' nodes do (the message blamed
    the whole machine when the GPU nodes were only in another partition)."""
    has = np.ones(len(table), dtype=bool)
    for feat in req.features:
        has &= having(feat)
    where = f"partition {req.partition!r}" if req.partition else "the partition"
    others = sorted(p for p, m in table.partition_masks.items() if (m & has).any())
    hint = f"; nodes of partition(s) {', '.join(others)} have them (-p)" if others else " (no node has them)"
    typed = [f.removeprefix(GPU) for f in req.features if f.startswith(GPU)]
    plain = [f for f in req.features if not f.startswith(GPU)]
    wants = [f"the features {plain}"] * bool(plain) + [f"{kind} GPUs" for kind in typed]  # -C gpu:a100 is said alike
    if any(not having(GPU + kind).any() for kind in typed):  # a type no node group of the cluster file gives
        known = sorted(f.removeprefix(GPU) for f in table.feature_masks if f.startswith(GPU))
        hint += f"; the cluster file's node groups have gpu_type {', '.join(known)}" if known else (
            "; no node group of the cluster file sets gpu_type"
        )  # fmt: skip
    return f"no node of {where} has {' and '.join(wants)}{hint}"

"""The node shapes that hold a job's GPUs when fewer GPUs a node were asked than its nodes hold: exactly the GPUs
asked for where a natural split fits, and the nearest on the fewest nodes. The engine offers them with a -N job's
refusal (QA: `-N 2 --gres=gpu:a100:5` was offered nothing, where the same GPUs without -N were); the controller's
gpu_fix offers them for a one-task job without -N."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hal.engine.feature_refusal import GPU
from hal.engine.request import GPUS, Request
from hal.model.cluster import NodeTable


def node_fix(table: NodeTable, req: Request, mask: npt.NDArray[np.bool_]) -> str:
    """ "; spread them over nodes: ..." for a -N job whose GPUs a node no node of ``mask`` holds ("" otherwise):
    its GPUs in all (``req.total``), one partition's nodes at a time as a job runs in one, with its GPU type."""
    want = int(req.total[GPUS])
    per = req.per_node()
    if req.nodes is None or want < 1 or per[GPUS] <= table.capacity[mask, GPUS].max(initial=0):
        return ""
    masks = table.partition_masks
    parts = [masks[p] & mask for p in req.partition.split(",") if p in masks] or [mask]
    pools = [sorted((int(g) for g in table.capacity[m, GPUS] if g > 0), reverse=True) for m in parts]
    if not any(pools):
        return ""
    kinds = [f.removeprefix(GPU) for f in req.features if f.startswith(GPU)]
    return shapes(want, pools, total=False, kind=kinds[0] if len(kinds) == 1 and "|" not in kinds[0] else "")


def shapes(want: int, pools: Sequence[Sequence[int]], total: bool, kind: str = "") -> str:
    """The fix for ``want`` GPUs of type ``kind`` ("": any) where each pool (a partition's nodes the job may use)
    lists its nodes' GPUs, most first; ``total``: they were asked for the job (--gpus), so adding -N keeps them."""
    of = f"{kind}:" if kind else ""  # --gpus-per-node=a100:2: the type stays asked for
    gpus = f"{kind} GPUs" if kind else "GPUs"

    def fits(each: int, nodes: int) -> bool:
        return any(sum(1 for g in pool if g >= each) >= nodes for pool in pools)

    most = max(p[0] for p in pools if p)
    largest = max(len(p) for p in pools)
    fewest = next((n for n in range(2, largest + 1) if fits(-(-want // n), n)), None)  # an even split holds it
    if fewest is not None and want % fewest == 0:  # an even split on the fewest nodes is exact
        each = want // fewest
        spread = f"add -N {fewest} (a task on each node, {each} {gpus} each), or " if total else ""
        return f"; spread them over nodes: {spread}ask for --gpus-per-node={of}{each} -N {fewest}"
    offers = []
    if any(sum(pool) >= want for pool in pools):  # a GPU a task, packed: exact
        offers.append(f"-n {want} --gpus-per-task={of}1 (exactly {want} GPUs, up to {most} a node)")
    exact = next((d for d in range(most, 0, -1) if want % d == 0 and fits(d, want // d)), None)
    if exact is not None:
        offers.append(f"--gpus-per-node={of}{exact} -N {want // exact}")
    said = f"; spread them over nodes: ask for {' or '.join(offers)}" if offers else ""
    if fewest is not None:
        near = -(-want // fewest)
        said += f"; the nearest on {fewest} nodes is --gpus-per-node={of}{near} -N {fewest} ({near * fewest} GPUs)"
    if said:
        return said
    held = max(sum(pool) for pool in pools)
    return (
        f"; no shape on the nodes {'' if len(pools) == 1 else 'of any one partition '}the job may use holds {want} "
        f"{gpus}: they hold {held} in all, at most {most} a node"
    )

"""The fix `hal submit` suggests for a job whose one task asks more GPUs than a node holds: shapes that give exactly
the GPUs asked for, and the nearest on the fewest nodes when none of those is a natural fit."""

from __future__ import annotations

import re
from collections.abc import Collection

_ONE_NODE = re.compile(r"needs (\d+) gpus per task \(a task runs on one node\), the largest node .*? has (\d+)")
PER_SHAPE = frozenset({"gres", "gpus-per-node", "gpus-per-task", "tres-per-task"})  # not a total to spread


def gpu_fix(message: str, given: Collection[str] = ()) -> str:
    """The fix for ``message`` (--gpus=16 or --gres=gpu:5 without -N on smaller nodes), or "". ``given``: the
    job's option names; `add -N` keeps the request as typed, so it is offered for a total (--gpus) only."""
    m = _ONE_NODE.search(message)
    if m is None or int(m[2]) < 1:
        return ""
    want, most = int(m[1]), int(m[2])
    nodes = -(-want // most)  # the fewest that can hold them
    if want % nodes == 0:  # an even split on the fewest nodes is exact
        each = want // nodes
        spread = "" if PER_SHAPE & set(given) else f"add -N {nodes} (a task on each node, {each} GPUs each), or "
        return f"; spread them over nodes: {spread}ask for --gpus-per-node={each} -N {nodes}"
    each = max(d for d in range(1, most + 1) if want % d == 0)
    near = -(-want // nodes)
    return (
        f"; spread them over nodes: ask for -n {want} --gpus-per-task=1 (exactly {want} GPUs, up to {most} a node) "
        f"or --gpus-per-node={each} -N {want // each}; the nearest on {nodes} nodes is --gpus-per-node={near} "
        f"-N {nodes} ({near * nodes} GPUs)"
    )

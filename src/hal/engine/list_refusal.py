"""What a refusal says when -w/--nodelist or -x/--exclude leave a job no node: which of the partition, the -C
features and the GPU type the listed nodes lack. The GPU type of --gres=gpu:h100:2 reaches the engine as the
feature gpu:h100, so "with those features" blamed features nobody asked for (QA: `--gres=gpu:h100:2 -w a01` said
a01 was not in partition 'gpu' with those features, where a01 is in it and has a100 GPUs)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from hal.engine.feature_refusal import GPU, featureless
from hal.engine.request import Request
from hal.model.cluster import NodeTable

Having = Callable[[str], npt.NDArray[np.bool_]]


def wanted(req: Request) -> str:
    """The request's features as a refusal says them: "a100 GPUs", "the features ['ib']", or both ("": none)."""
    kinds = [f.removeprefix(GPU) for f in req.features if f.startswith(GPU)]
    other = [f for f in req.features if not f.startswith(GPU)]
    return " and ".join([f"{'|'.join(kinds)} GPUs"] * bool(kinds) + [f"the features {other}"] * bool(other))


def listed_refusal(table: NodeTable, req: Request, having: Having) -> str:
    """No node is left to ``req`` once its node lists apply: the partition's own reason when it has no such node
    anywhere, else the first thing the listed nodes lack (partition, features, GPU type), with the GPU types
    they have."""
    names = np.array(table.names)
    part = np.ones(len(table), dtype=bool)
    if req.partition:
        none = np.zeros(len(table), dtype=bool)
        part = np.logical_or.reduce([table.partition_masks.get(p, none) for p in req.partition.split(",")])
    typed = [f for f in req.features if f.startswith(GPU)]
    plain = np.ones(len(table), dtype=bool)
    for feat in req.features:
        if not feat.startswith(GPU):
            plain &= having(feat)
    gpus = np.ones(len(table), dtype=bool)
    for feat in typed:
        gpus &= having(feat)
    if not (part & plain & gpus).any():  # not the lists' doing: no node of the partition has them
        return featureless(table, req, having)
    where = f"partition {req.partition!r}" if req.partition else "the partition"
    if not req.node_names:
        said = wanted(req)
        return f"no node of {where}{' with ' + said if said else ''} is left after --exclude"
    listed = np.isin(names, req.node_names) & ~np.isin(names, req.exclude_nodes)
    shown = list(req.node_names)
    if not listed.any():
        return f"--exclude takes out every node of --nodelist {shown}"
    if not (listed & part).any():
        return f"none of the nodes {shown} is in {where}"
    other = [f for f in req.features if not f.startswith(GPU)]
    if not (listed & part & plain).any():
        return f"none of the nodes {shown} in {where} has the features {other}"
    held = listed & part & plain
    kinds = sorted(
        {f.removeprefix(GPU) for f, m in table.feature_masks.items() if f.startswith(GPU) and (m & held).any()}
    )
    have = f"{', '.join(kinds)} GPUs" if kinds else "no GPU type"
    asked = "|".join(f.removeprefix(GPU) for f in typed)
    return f"none of the nodes {shown} has {asked} GPUs (they have {have})"

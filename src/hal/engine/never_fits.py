"""Why a request can never run on the empty machine: the limit it breaks, in the words of `hal submit`'s refusal
(moved out of engine/nodes.py; ``why_never`` is NodeBook.impossible's last word)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hal.engine.gpu_shapes import node_fix
from hal.engine.list_refusal import wanted
from hal.engine.partition_choice import in_order
from hal.engine.plugins.topology_refusal import required_refusal
from hal.engine.request import GPUS, Request

if TYPE_CHECKING:
    from hal.engine.nodes import NodeBook

Mask = npt.NDArray[np.bool_]
UNITS = {"mem_mb": "MB of memory"}  # what a refusal calls each resource


def why_never(book: NodeBook, req: Request, mask: Mask) -> str:
    """Why ``req`` never fits the nodes of ``mask``. A job listing several partitions runs in one of them, so each
    one's reason is given (QA: `-p small,all -N 3` was placed over both, on nodes no one partition has)."""
    if "," not in req.partition:
        return _why(book, req, mask)
    masks = book.table.partition_masks
    each = [
        f"in {name!r}: {_why(book, replace(req, partition=name), mask & masks[name])}"
        for name in in_order(req.partition, book.table.partition_tiers)
    ]
    return f"a job runs in one of its partitions, and none can hold it ({'; '.join(each)})"


def _why(book: NodeBook, req: Request, mask: Mask) -> str:
    table = book.table
    cap = table.capacity[mask]
    names = table.space.names
    if req.nodes is not None and req.nodes > int(mask.sum()):
        return f"needs {req.nodes} nodes, the partition has {int(mask.sum())}{_of(req)}"
    per = req.per_node() if req.nodes else np.array(req.per_task, dtype=np.int64)
    for r, name in enumerate(names):
        if per[r] > cap[:, r].max(initial=0):
            where = f"in partition {req.partition!r}" if req.partition else "here"
            what = UNITS.get(name, name)
            # QA: --gpus 1 said "per node"; --gpus-per-node=9 said "per task": a lone task's node is the job's
            unit = "per node" if req.nodes else "per task (a task runs on one node)" if req.tasks > 1 else (
                "on one node (a one-task job runs on one node)"
            )  # fmt: skip
            fix = node_fix(table, req, mask) if r == GPUS else ""  # a -N job's; gpu_fix offers the rest
            largest = f"the largest node {where}{_of(req)} has {int(cap[:, r].max(initial=0))}"  # of its GPU type
            return f"needs {int(per[r])} {what} {unit}, {largest}{fix}"
    total = np.array(req.total, dtype=np.int64)
    for r, name in enumerate(names):
        if total[r] > cap[:, r].sum():
            has = f"the partition has {int(cap[:, r].sum())}{_of(req)}"
            return f"needs {int(total[r])} {UNITS.get(name, name)} in all, {has}"
    if book.fabrics is not None and book.select is None:
        return "it is larger than every domain a job may span (separate switch fabrics or BlockSizes groups)"
    if book.select is not None:
        told = _topology_why(book, req, mask, per)
        if told:
            return told
    return "the request does not fit the partition's nodes"


def _of(req: Request) -> str:
    """Which of the partition's nodes a count is of (QA: -N5 of a100s said 4 of a 20-node partition)."""
    said = wanted(req)
    lists = " in --nodelist" if req.node_names else " left after --exclude" if req.exclude_nodes else ""
    return (f" with {said}" if said else "") + lists


def _topology_why(book: NodeBook, req: Request, mask: Mask, per: npt.NDArray[np.int64]) -> str | None:
    """Why the selector can never place ``req`` on the nodes of ``mask``. The machine's own reason comes first:
    -w or -x is blamed only when the partition's nodes could hold the job and the listed ones cannot
    (`-N3 --segment=3 -w gpu[001-004]` on blocks of 2 blamed -w, where no node list could do it, QA)."""
    select = book.select
    assert select is not None
    index = getattr(select, "index", None)
    bare = replace(req, node_names=(), exclude_nodes=())
    everywhere = book.allowed(bare)
    asks = [(bare, everywhere)] if everywhere.sum() > mask.sum() and not book.fits_empty(bare, everywhere) else []
    full, used = book.table.capacity, per > 0
    for ask, where in [*asks, (req, mask)]:
        if req.nodes:
            room = (where & (full >= per).all(axis=1)).astype(np.int64)
        else:
            room = np.where(where, (full[:, used] // per[used]).min(axis=1), 0)
        units = req.nodes or req.tasks
        required = None if index is None else required_refusal(index, ask, room, units)
        told = required or select.why(ask, room, units)  # required=, named before --segment (QA)
        if told:
            return told
    return None

"""The fix the server offers for a job whose one task asks more GPUs than any node it may use holds (--gpus=16 or
--gres=gpu:5 without -N on smaller nodes): shapes that give exactly the GPUs asked for, and the nearest on the
fewest nodes when none of those is a natural fit. Built with the refusal, so every client (hal submit, REST, the
SDK) is told it. Only the nodes the job may use count (its partition, its GPU type, its node lists), one partition
at a time as a job runs in one, so no shape offered is one the server would refuse in turn; a typed request keeps
its type in the options offered."""

from __future__ import annotations

from hal.controller.directives import JobRequest
from hal.engine.gpu_shapes import shapes
from hal.engine.nodes import NodeBook
from hal.engine.request import GPUS, Request


def gpu_fix(req: JobRequest, request: Request, book: NodeBook) -> str:
    """ "; spread them over nodes: ..." for a one-task job without -N whose GPUs no node it may use holds, "; no
    shape ..." when no nodes it may use hold them together, else "". `add -N` keeps the request as typed, so it is
    offered for a total (--gpus) only: per node or per task (--gres, --gpus-per-node, --gpus-per-task) it would ask
    that many on each node."""
    if req.nodes is not None or req.tasks != 1:
        return ""
    want = int(request.per_task[GPUS])
    allowed = book.allowed(request)  # partition, features (a GPU type is the feature gpu:TYPE), node lists
    masks = book.table.partition_masks
    parts = [masks[p] & allowed for p in request.partition.split(",") if p in masks] or [allowed]
    pools = [sorted((int(g) for g in book.table.capacity[m, GPUS] if g > 0), reverse=True) for m in parts]
    most = max((p[0] for p in pools if p), default=0)
    if most < 1 or want <= most:
        return ""
    return shapes(want, pools, total=req.gpus_per_job > 0, kind=req.gpu_kind)

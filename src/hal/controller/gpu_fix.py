"""The fix the server offers for a job whose one task asks more GPUs than any node it may use holds (--gpus=16 or
--gres=gpu:5 without -N on smaller nodes): shapes that give exactly the GPUs asked for, and the nearest on the
fewest nodes when none of those is a natural fit. Built with the refusal, so every client (hal submit, REST, the
SDK) is told it."""

from __future__ import annotations

from hal.controller.directives import JobRequest
from hal.engine.nodes import NodeBook
from hal.engine.request import GPUS, Request


def gpu_fix(req: JobRequest, request: Request, book: NodeBook) -> str:
    """ "; spread them over nodes: ..." for a one-task job without -N whose GPUs no node it may use holds, else "".
    `add -N` keeps the request as typed, so it is offered for a total (--gpus) only: per node or per task (--gres,
    --gpus-per-node, --gpus-per-task) it would ask that many on each node."""
    if req.nodes is not None or req.tasks != 1:
        return ""
    want = int(request.per_task[GPUS])
    most = int(book.table.capacity[book.allowed(request), GPUS].max(initial=0))
    if most < 1 or want <= most:
        return ""
    return shapes(want, most, total=req.gpus_per_job > 0)


def shapes(want: int, most: int, total: bool) -> str:
    """The fix for ``want`` GPUs where a node holds at most ``most``."""
    nodes = -(-want // most)  # the fewest that can hold them
    if want % nodes == 0:  # an even split on the fewest nodes is exact
        each = want // nodes
        spread = f"add -N {nodes} (a task on each node, {each} GPUs each), or " if total else ""
        return f"; spread them over nodes: {spread}ask for --gpus-per-node={each} -N {nodes}"
    each = max(d for d in range(1, most + 1) if want % d == 0)
    near = -(-want // nodes)
    return (
        f"; spread them over nodes: ask for -n {want} --gpus-per-task=1 (exactly {want} GPUs, up to {most} a node) "
        f"or --gpus-per-node={each} -N {want // each}; the nearest on {nodes} nodes is --gpus-per-node={near} "
        f"-N {nodes} ({near * nodes} GPUs)"
    )

"""The fix the server offers for a job whose one task asks more GPUs than any node it may use holds (--gpus=16 or
--gres=gpu:5 without -N on smaller nodes): shapes that give exactly the GPUs asked for, and the nearest on the
fewest nodes when none of those is a natural fit. Built with the refusal, so every client (hal submit, REST, the
SDK) is told it. Only the nodes the job may use count (its partition, its GPU type, its node lists), one partition
at a time as a job runs in one, so no shape offered is one the server would refuse in turn; a typed request keeps
its type in the options offered."""

from __future__ import annotations

from collections.abc import Sequence

from hal.controller.directives import JobRequest
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


def shapes(want: int, pools: Sequence[Sequence[int]], total: bool, kind: str = "") -> str:
    """The fix for ``want`` GPUs of type ``kind`` ("": any) where each pool (a partition's nodes the job may use)
    lists its nodes' GPUs, most first."""
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

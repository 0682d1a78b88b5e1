"""A node whose cache filesystem cannot hold a job's inputs (cache_bytes set above its disk's size; QA: a 40M tmpfs
under cache_bytes = "80M" got a 50 MB input on every retry, and the job FAILED while other nodes were idle with
room). The node is not broken (it is not drained: ``hal.data.node_faults.no_room``), but it is no place for this
job: the job's next attempts avoid it as if submitted with --exclude (its ExcNodeList and stored request say so, so
a restart keeps it, and the attempt is not counted), and it fails at once only when no node it may use could ever
hold its inputs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hal.data.cache import NodeCache
from hal.data.disk_size import disk_total
from hal.data.node_faults import Room
from hal.engine.request import request_of

AVOIDED = "excluded for this job (as --exclude)"


def could_hold(cache: NodeCache, size: int) -> bool:
    """Whether the cache could ever hold ``size`` bytes: no more than cache_bytes, nor than its filesystem."""
    return size <= min(cache.capacity, disk_total(cache.root))


def avoid_small(
    staging: Any, controller: Any, lv: Any, inputs: tuple[str, ...], rooms: dict[str, Room], node: str, cause: str,
    now: float,
) -> None:  # fmt: skip
    """Under the controller's lock, after a stage-in whose node's disk could not hold the inputs (``cause``): the
    job requeued, no attempt used, with that node (and any other of its nodes short of room, a multi-node job's)
    excluded, when enough nodes it may use are left that could hold them. Otherwise the usual failed stage-in:
    retried per max_requeues if one of those nodes could hold them once freed, else FAILED now with the reason."""
    stager = staging.stager
    with stager.guard():
        total = sum(d.size for n in dict.fromkeys(inputs) if (d := stager.catalog.datasets.get(n)) is not None)
    short = [node, *sorted(n for n, room in rooms.items() if room.need > room.free and n != node)]
    # only a disk too small for the inputs whatever is freed: one full for now (other jobs' scratch, kept outputs,
    # files not HAL's) is the usual failed stage-in, retried per max_requeues, never excluded for good (review)
    small = [n for n in short if n in stager.caches and not could_hold(stager.caches[n], total)]
    if not small:
        staging._back_to_queue(controller, lv, now, cause, retry=True)
        return
    excluded = tuple(dict.fromkeys((*lv.spec.exclude_nodes, *small)))
    spec = dataclasses.replace(lv.spec, exclude_nodes=excluded)
    allowed = controller.book.allowed(request_of(spec, controller.table.space))
    names = controller.table.names
    left = [n for i, n in enumerate(names) if allowed[i] and n in stager.caches and could_hold(stager.caches[n], total)]
    if len(left) >= (lv.spec.nodes or 1):
        lv.spec = spec
        lv.request = dataclasses.replace(lv.request, exclude_nodes=list(excluded))
        row = controller.store.get(lv.job_id) or {}
        request = json.loads(row.get("request") or "{}")
        request["exclude_nodes"] = list(excluded)  # a JobRequest field: a restart reads it back as it is
        why = f"{cause}; requeued for another node, {', '.join(small)} {AVOIDED}"
        staging._unstart(controller, lv, now, why, None, request=json.dumps(request))
        return
    roomy = any(could_hold(stager.caches[n], total) for n in small if n in stager.caches)
    if not roomy:
        cause = f"{cause}; no other node the job may use can hold them"
    staging._back_to_queue(controller, lv, now, cause, retry=roomy)

"""A node cache that fails a job's stage-in: the node is drained, as Slurm drains one whose prolog fails, and the
job goes back to run elsewhere. Two limits keep one job from taking the cluster down with it (QA: one 400 MB input
on caches in a 300 MB tmpfs with cache_bytes = "3G" drained every node in turn, leaving none): a full disk that
could never have held the job's inputs is the job's stage-in failure, not the node's (``no_room``), and a job whose
stage-in has drained ``DRAIN_HOLD`` nodes is requeued held for an administrator, as Slurm's "launch failed requeued
held" (``node_broken``)."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Mapping
from typing import Any

from hal.data.cache import DISK_FULL, CacheWriteError
from hal.data.stager import Stager

log = logging.getLogger("hal.data")

DRAINED = "(node drained; requeued"  # in the event of each requeue after a drain (history outlives a restart)
DRAIN_HOLD = 2  # drains by one job's stage-in after which it is held instead of sent to the next node
RELEASED = "released by "  # set_hold's event: the count starts again after an administrator's release


@dataclasses.dataclass(frozen=True)
class Room:
    """A node's room for a job's inputs when its stage-in starts."""

    need: int  # bytes of the inputs not yet cached there
    free: int  # bytes its cache's filesystem had free, plus what evicting unpinned datasets could free
    capacity: int  # [data] cache_bytes


def room_of(stager: Stager, inputs: tuple[str, ...], nodes: list[str]) -> dict[str, Room]:
    """Each node's ``Room`` (a node whose filesystem cannot be asked is left out: a disk fault stays the node's).
    The filesystem is asked outside the controller's lock (a hung mount must not stall its loop)."""
    looked: dict[str, tuple[int, int, int, Any]] = {}
    with stager.guard():
        sizes = {n: d.size for n in inputs if (d := stager.catalog.datasets.get(n)) is not None}
        for node in dict.fromkeys(nodes):
            cache = stager.caches.get(node)
            if cache is None:
                continue
            need = sum(size for name, size in sizes.items() if name not in cache.entries)
            spare = sum(n for name, n in cache.entries.items() if name not in sizes and not cache.pins.get(name))
            looked[node] = (need, spare, cache.capacity, cache.root)
    rooms = {}
    for node, (need, spare, capacity, root) in looked.items():
        try:
            rooms[node] = Room(need, shutil.disk_usage(root).free + spare, capacity)
        except OSError:
            continue
    return rooms


def no_room(exc: BaseException, rooms: dict[str, Room]) -> str | None:
    """Why a full disk (ENOSPC, EDQUOT) failed the stage-in through no fault of its node: the inputs are larger
    than its filesystem could give them (cache_bytes set above the disk's size); None when it is the node's fault
    (the disk filled although the inputs fitted, or any other write error)."""
    if not isinstance(exc, CacheWriteError) or exc.errno not in DISK_FULL:
        return None
    room = rooms.get(exc.node)
    if room is None or room.need <= room.free:
        return None
    return (
        f"node {exc.node}'s cache filesystem cannot hold the job's inputs: {room.need:,} bytes to copy, "
        f"{room.free:,} bytes free there when the stage-in started (evictable datasets counted), while [data] "
        f"cache_bytes is {room.capacity:,} ({exc.strerror})"
    )


def node_broken(staging: Any, controller: Any, lv: Any, broken: dict[str, str], now: float) -> None:
    """Drain nodes whose cache failed the job, before staging or mid-copy, and requeue the job for another node
    without using an attempt; once its stage-in has drained ``DRAIN_HOLD`` nodes, requeued held for an
    administrator instead (JobHeldAdmin: a job that breaks every cache it touches must not drain them all). If
    the drain cannot be recorded, the usual requeue."""
    cause = "; ".join(broken.values())
    try:
        drain_broken(controller, broken)
    except Exception:  # the drain could not be recorded: the job must still not be lost
        log.exception("job %s: could not drain %s", lv.job_id, ", ".join(broken))
        staging._back_to_queue(controller, lv, now, cause)
        return
    drains = drains_of(controller.store, lv.job_id) + 1
    if drains < DRAIN_HOLD:
        log.warning("job %s: %s; node drained, the job goes back to the queue", lv.job_id, cause)
        staging._unstart(controller, lv, now, f"{cause} {DRAINED} for another node)", None)
        return
    held = (
        f"launch failed requeued held: its stage-in has drained {drains} nodes; the last: {cause} {DRAINED} held; "
        f"an administrator releases it with hal release {lv.job_id})"
    )
    log.warning("job %s: %s", lv.job_id, held)
    staging._unstart(controller, lv, now, held, None, held=True)


def drains_of(store: Any, job_id: int) -> int:
    """How many times the job's stage-in drained a node since it was last released from a hold."""
    count = 0
    for event in store.events_of(job_id):
        cause = str(event.get("cause") or "")
        if cause.startswith(RELEASED):
            count = 0
        elif event["state"] == "PENDING" and DRAINED in cause:
            count += 1
    return count


def hold_for_admin(controller: Any, lv: Any) -> str:
    """Hold the job as an administrator's hold (hal hold by an admin: JobHeldAdmin) before it re-enters the
    engine; the stored request to write with it, so a restart holds it again."""
    lv.request = dataclasses.replace(lv.request, hold=True, hold_admin=True)
    lv.spec = dataclasses.replace(lv.spec, held=True)
    row = controller.store.get(lv.job_id) or {}
    request = json.loads(row.get("request") or "{}")
    request["hold"], request["hold_admin"] = True, True
    return json.dumps(request)


def drain_broken(controller: Any, broken: dict[str, str]) -> None:
    """Take nodes whose cache is unusable out of service (``hal resume`` puts them back once it is fixed)."""
    from hal.controller.auth import Identity
    from hal.controller.drain import drain

    for node, why in broken.items():
        drain(controller, node, f"data cache unusable: {why}", Identity("hal", admin=True))


def node_of(exc: OSError, caches: Mapping[str, Any], nodes: list[str]) -> str | None:
    """Which of the job's nodes an error came from: the node it names, else the one whose cache holds its path."""
    paths = [str(p) for p in (exc.filename, exc.filename2) if p]
    roots = {n: str(caches[n].root).rstrip("/") for n in nodes if n in caches}
    found = [n for n, r in roots.items() if any(p == r or p.startswith(r + "/") for p in paths)]
    named = getattr(exc, "node", None)
    return str(named) if named in nodes else found[0] if found else None

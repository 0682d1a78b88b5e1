"""CacheWait: a job whose stage-in found the node caches full of running jobs' inputs goes back to the queue,
held for a back-off (``cache_wait`` s, doubling), and is woken as soon as a job's inputs are unpinned. The
waiters are found again after a restart from the stored hold reason, or a restarted controller left them to
wait out their whole back-off (up to 16 x ``cache_wait``) with room free."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hal.controller.store import jobs

if TYPE_CHECKING:
    from hal.data.live import LiveStaging

log = logging.getLogger("hal.data")

WAIT_CAUSE = "waiting for cache room"  # the stored cause of a waiting job (hal.controller.holds.KEPT_CAUSES)


def wait_for_room(staging: LiveStaging, controller: Any, lv: Any, now: float, cause: str) -> None:
    """Back to the queue without counting a restart, held (BeginTime) for a back-off that doubles with each
    wait (``cache_wait`` s, at most 16 times that), so it retries once running jobs may have freed room."""
    waits = staging.cache_waits[lv.job_id] = staging.cache_waits.get(lv.job_id, 0) + 1
    hold = staging.cache_wait * 2 ** min(waits - 1, 4)
    log.info("job %s: waits %.0f s for cache room (%s)", lv.job_id, hold, cause)
    staging._unstart(controller, lv, now, f"{WAIT_CAUSE}: {cause}", now + hold, WAIT_CAUSE)


def wake_waiters(staging: LiveStaging, controller: Any, ended: int | None = None) -> None:
    """A job's inputs were unpinned: jobs held for cache room try again now, not after their back-off, which
    left them idle with room free (controller thread, inside its transaction)."""
    for jid in [j for j in staging.cache_waits if j != ended]:
        _wake(controller, jid)


def restore_waiters(staging: LiveStaging, controller: Any) -> int:
    """After a restart (records recovered, running jobs' inputs pinned again): the pending jobs whose stored
    cause says they wait for cache room are waiters again, with the number of waits their events record (their
    back-off keeps doubling); those whose inputs fit now (the jobs that held the room ended while no server
    ran) try again on the first cycle. How many were found, for the log."""
    query = sa.select(jobs.c.id).where(jobs.c.state == "PENDING", jobs.c.cause.startswith(WAIT_CAUSE))
    with controller.lock:
        with controller.store.engine.connect() as conn:
            ids = [int(jid) for (jid,) in conn.execute(query)]
        found = [lv for lv in map(controller.live.get, ids) if lv is not None and lv.state == "PENDING"]
        for lv in found:
            events = controller.store.events_of(lv.job_id)
            waits = sum(e["state"] == "PENDING" and str(e["cause"] or "").startswith(WAIT_CAUSE) for e in events)
            staging.cache_waits[lv.job_id] = max(waits, 1)
            if _room_for(staging, controller, lv):
                _wake(controller, lv.job_id)
    return len(found)


def _room_for(staging: LiveStaging, controller: Any, lv: Any) -> bool:
    """Whether the job's inputs fit now beside the running jobs' on as many node caches in service as it asks
    for nodes. A guess (its partition is not asked): one too hopeful costs a try and a longer wait, no restart."""
    stager = staging.stager
    with stager.guard():
        sizes = {n: stager.catalog.datasets[n].size for n in lv.spec.inputs if n in stager.catalog.datasets}
        fits = [
            node
            for node, cache in stager.caches.items()
            if node not in controller.drained
            and sum(size for name, size in sizes.items() if name not in cache.entries) <= cache.free_room()
        ]
    return len(fits) >= max(lv.spec.nodes or 1, 1)


def _wake(controller: Any, jid: int) -> None:
    """Its hold ends now; the engine takes it again (a held, gated or deferred job is left as it is)."""
    now = controller.clock()
    lv = controller.live.get(jid)
    if lv is None or lv.state != "PENDING" or (lv.spec.begin_time or 0.0) <= now or lv.spec.held:
        return
    if jid not in controller.sched.known or jid in controller.gated or jid in controller.deferred:
        return
    lv.spec = dataclasses.replace(lv.spec, begin_time=now)
    controller.sched.withdraw(jid)
    controller._to_engine(lv, now)

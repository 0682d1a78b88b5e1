"""What-if starts for one pending job changed (say, a shorter time limit): the "suggested fix" next to an ETA.

Both starts, as submitted and as changed, come from the same kind of forward run (point predictions, nobody
else arriving) on independent clones, so the comparison is like for like; the scheduler is never modified.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hal.engine.cycle import Scheduler
from hal.engine.forecast import forward_starts
from hal.engine.queue import PendingQueue

MIN_ASKED = 60.0  # the what-if's minimum: a limit under a minute is no offer worth making


def start_if(s: Scheduler, now: float, job_id: int, time_limit: float | None = None) -> float | None:
    """Planned start of pending ``job_id`` if it asked for ``time_limit`` (None: as it is); None when no
    forward run starts it (or it is not pending). The planner's prediction for it is capped at the new limit,
    as at submission; the job keeps its place in the queue."""
    twin = s.clone(history=False)  # forward_starts clones it again with a predictor that learns nothing
    item = twin.held.get(job_id) or twin.queue.get(job_id)
    if item is None:
        return None
    if time_limit is not None:
        spec = replace(item.spec, time_limit=time_limit, request_known=True)
        point = min(item.estimate, time_limit)
        item = replace(item, spec=spec, estimate=point, upper=max(min(item.upper, time_limit), point))
        if job_id in twin.held:
            twin.held[job_id] = item
        else:
            queue = PendingQueue(twin.queue.order)
            for w in twin.queue.items():  # queue order, so every add appends
                queue.add(item if w.spec.job_id == job_id else w)
            queue.forget_fresh()
            twin.queue = queue
        twin.epoch += 1
    start = forward_starts(twin, now, "point", wanted=[job_id]).get(job_id)
    return start if start is not None and math.isfinite(start) else None


def limit_if_min(s: Scheduler, now: float, job_id: int) -> float | None:
    """The limit backfill would start pending ``job_id`` with right now if it accepted any shorter limit (sbatch
    --time-min, engine/time_min.py); None when it would not start now even so (or it is not waiting, or it would
    start with its own limit anyway). One cycle of a clone: the same passes, the same reservations."""
    twin = s.clone(history=False)
    item = twin.queue.get(job_id)
    if item is None or item.spec.time_limit is None:
        return None
    spec = replace(item.spec, time_min=min(MIN_ASKED, item.spec.time_limit))
    changed = replace(item, spec=spec)
    queue = PendingQueue(twin.queue.order)
    for w in twin.queue.items():
        queue.add(changed if w.spec.job_id == job_id else w)
    queue.forget_fresh()
    twin.queue, twin.easy_memo, twin.cons_memo = queue, None, None
    twin.epoch += 1
    plan = twin.cycle(now)
    return next((p.time_limit for p in plan.starts if p.job_id == job_id), None)

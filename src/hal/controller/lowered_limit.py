"""A --time-min job that backfill started with a shorter limit: the lowered limit becomes its own.

It is stored in the job's row and its request (so a restart adopts the running job with the limit it was started
on, `hal show` shows it as TimeLimit, and the executor kills at it), as Slurm's backfill sets the job's time
limit when it starts it. A requeued job keeps it: it is still at least the minimum the user accepted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hal.controller.jobs import Live
from hal.controller.option_values import hms
from hal.controller.store import Store, jobs

log = logging.getLogger(__name__)


def lower_limit(store: Store, conn: Connection, lv: Live, limit: float, now: float) -> dict[str, Any]:
    """The row values that record ``limit`` as ``lv``'s time limit (``lv`` is updated; the event is added)."""
    asked = lv.request.time_limit
    lv.request.time_limit = limit
    lv.spec = dataclasses.replace(lv.spec, time_limit=limit)
    stored = conn.execute(sa.select(jobs.c.request).where(jobs.c.id == lv.job_id)).scalar_one()
    request = json.loads(stored)
    request["time_limit"] = limit
    was = "no limit" if asked is None else hms(asked)
    mins = hms(lv.request.time_min) if lv.request.time_min is not None else "?"
    why = f"backfilled with TimeLimit lowered from {was} to {hms(limit)} (--time-min={mins})"
    store.add_events(conn, [(lv.job_id, now, "RUNNING", why)])
    log.info("job %s %s", lv.job_id, why)
    return {"time_limit": limit, "request": json.dumps(request, separators=(",", ":"))}

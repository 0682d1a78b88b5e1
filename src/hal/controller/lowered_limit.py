"""A --time-min job that backfill started with a shorter limit: the lowered limit becomes its own while it runs.

It is stored in the job's row and its request (so a restart adopts the running job with the limit it was started
on, `hal show` shows it as TimeLimit, and the executor kills at it), as Slurm's backfill sets the job's time limit
when it starts it. The --time asked is kept beside it: a requeued job waits with it again, and backfill may lower
it anew at its next start (QA: a requeued 12-hour checkpointing job ran at its first start's cut for good).
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
    asked = lv.request.time_asked if lv.request.time_lowered else lv.request.time_limit
    _set(lv, limit, lowered=True, asked=asked)
    was = "no limit" if asked is None else hms(asked)
    mins = hms(lv.request.time_min) if lv.request.time_min is not None else "?"
    why = f"backfilled with TimeLimit lowered from {was} to {hms(limit)} (--time-min={mins})"
    store.add_events(conn, [(lv.job_id, now, "RUNNING", why)])
    log.info("job %s %s", lv.job_id, why)
    return _stored(conn, lv)


def restore_limit(conn: Connection, lv: Live) -> dict[str, Any]:
    """The row values that give a job back to the queue its --time asked (none when its limit was not lowered)."""
    if not lv.request.time_lowered:
        return {}
    _set(lv, lv.request.time_asked, lowered=False, asked=None)
    return _stored(conn, lv)


def _set(lv: Live, limit: float | None, lowered: bool, asked: float | None) -> None:
    lv.request.time_limit, lv.request.time_lowered, lv.request.time_asked = limit, lowered, asked
    lv.spec = dataclasses.replace(lv.spec, time_limit=limit)


def _stored(conn: Connection, lv: Live) -> dict[str, Any]:
    stored = conn.execute(sa.select(jobs.c.request).where(jobs.c.id == lv.job_id)).scalar_one()
    request = json.loads(stored)
    request.update(time_limit=lv.request.time_limit, time_lowered=lv.request.time_lowered,
                   time_asked=lv.request.time_asked)  # fmt: skip
    return {"time_limit": lv.request.time_limit, "request": json.dumps(request, separators=(",", ":"))}

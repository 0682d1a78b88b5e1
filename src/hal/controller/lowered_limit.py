"""A --time-min job that backfill started with a shorter limit: the lowered limit becomes its own while it runs.

It is stored in the job's row and its request (so a restart adopts the running job with the limit it was started
on, `hal show` shows it as TimeLimit, and the executor kills at it), as Slurm's backfill sets the job's time limit
when it starts it. The --time asked is kept beside it: a requeued job waits with it again, and backfill may lower
it anew at its next start (QA: a requeued 12-hour checkpointing job ran at its first start's cut for good).

The cut is the head's start as the planner saw it, from predicted runtimes. Near the cut, if the head's start has
moved later (running jobs outlived their predictions), the job goes on until then instead (up to its --time):
killing it would free nothing the head can use, and a prediction is never a kill limit (QA).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hal.controller.jobs import Live
from hal.controller.option_values import hms
from hal.controller.store import Store, jobs
from hal.engine.time_min import cut_back_to, free_until, moved_cut

log = logging.getLogger(__name__)
LEAD = 10.0  # s before a lowered limit that it is checked: the supervisor must hear of a new one before the kill


def lower_limit(store: Store, conn: Connection, lv: Live, limit: float, now: float) -> dict[str, Any]:
    """The row values that record ``limit`` as ``lv``'s time limit (``lv`` is updated; the event is added)."""
    asked = lv.request.time_asked if lv.request.time_lowered else lv.request.time_limit
    _set(lv, limit, lowered=True, asked=asked, cut=limit)
    was = "no limit" if asked is None else hms(asked)
    mins = hms(lv.request.time_min) if lv.request.time_min is not None else "?"
    why = f"backfilled with TimeLimit lowered from {was} to {hms(limit)} (--time-min={mins})"
    store.add_events(conn, [(lv.job_id, now, "RUNNING", why)])
    log.info("job %s %s", lv.job_id, why)
    return _stored(conn, lv)


def restore_limit(conn: Connection, lv: Live) -> dict[str, Any]:
    """The row values that give a job back to the queue its --time asked (none when its limit was not cut). A cut
    moved up to the whole --time is no longer lowered but its first cut is forgotten too: the next attempt may
    start uncut, and a cut-back would then cut it."""
    if not lv.request.time_lowered and lv.request.time_cut is None:
        return {}
    limit = lv.request.time_asked if lv.request.time_lowered else lv.request.time_limit
    _set(lv, limit, lowered=False, asked=None, cut=None)
    return _stored(conn, lv)


def staged_cut(conn: Connection, lv: Live, staged: float) -> dict[str, Any]:
    """A cut job whose inputs took ``staged`` seconds to arrive: its limit runs from the launch, so it is shortened
    by them (never below its --time-min) to keep the cut where the reserved job starts (QA: the head started late
    by the stage-in time). The row values to store; none for a job that was not cut."""
    limit = lv.request.time_limit
    if not lv.request.time_lowered or limit is None:
        return {}
    new = max(limit - staged, lv.request.time_min or 1.0, 1.0)
    _set(lv, new, lowered=True, asked=lv.request.time_asked, cut=new)
    return _stored(conn, lv)


def _set(lv: Live, limit: float | None, lowered: bool, asked: float | None, cut: float | None) -> None:
    """A new request for this job alone: an array's tasks share one at submission (QA: a task's cut became its
    siblings' kill limits, and one sibling's extension left another with no limit at all). ``cut``: this attempt's
    first cut."""
    lv.request = dataclasses.replace(lv.request, time_limit=limit, time_lowered=lowered, time_asked=asked,
                                     time_cut=cut)  # fmt: skip
    lv.spec = dataclasses.replace(lv.spec, time_limit=limit)


def _stored(conn: Connection, lv: Live) -> dict[str, Any]:
    stored = conn.execute(sa.select(jobs.c.request).where(jobs.c.id == lv.job_id)).scalar_one()
    request = json.loads(stored)
    request.update(time_limit=lv.request.time_limit, time_lowered=lv.request.time_lowered,
                   time_asked=lv.request.time_asked, time_cut=lv.request.time_cut)  # fmt: skip
    return {"time_limit": lv.request.time_limit, "request": json.dumps(request, separators=(",", ":"))}


def extend_lowered(ctl: Any, now: float) -> None:
    """Lowered limits (EASY only) within LEAD of their cut whose head cannot start by then: moved to its start."""
    if ctl.profile.backfill != "easy":  # conservative cuts for every reservation: the cut stands, as in Slurm
        return
    near = [(ctl.live.get(jid), act) for jid, act in ctl.sched.running.items()]
    for lv, act in near:
        if lv is not None and lv.request.time_cut is not None:
            _cut_back(ctl, lv, act, now)
    due = [(lv, act) for lv, act in near if lv is not None and _near_cut(lv, act.start, now)]
    for lv, act in due:
        limit, asked = float(lv.request.time_limit), lv.request.time_asked
        until = free_until(ctl.sched, lv.job_id, now)
        new = moved_cut(until, act.start, asked, now)
        waits_on = _rests_on_prediction(ctl, lv.job_id, now, until) if new <= limit + 1.0 else None
        if waits_on is not None:  # the head's start rests on a prediction not yet borne out: look again after it
            new = min(float(asked or math.inf), max(limit, waits_on - act.start) + 2 * LEAD)
        if new <= limit + 1.0 or not ctl.executor.retime(lv.job_id, new):
            continue
        whole = asked is not None and new >= asked
        _set(lv, new, lowered=not whole, asked=None if whole else asked, cut=lv.request.time_cut)
        act.item = dataclasses.replace(act.item, spec=dataclasses.replace(act.item.spec, time_limit=new),
                                       estimate=new, upper=new)  # fmt: skip
        ctl.sched.extend(lv.job_id, act.start + new)
        why = (
            f"TimeLimit extended from {hms(limit)} to {hms(new)}: the job it was cut for waits on a running job "
            "predicted to end by the cut; checked again once that prediction is borne out or not"
            if waits_on is not None
            else f"TimeLimit extended from {hms(limit)} to {hms(new)}: the job it was cut for cannot start before then"
            if until != math.inf
            else f"TimeLimit extended from {hms(limit)} to {hms(new)}: no job waits in the queue now (the job it was"
            " cut for started, or is held); checked again before the new cut"
            if ctl.sched.head_id is None or ctl.sched.queue.get(ctl.sched.head_id) is None
            else f"TimeLimit extended from {hms(limit)} to {hms(new)}: the job it was cut for has no planned start"
            " now (nodes it needs are out); checked again before the new cut"
        )
        with ctl.store.engine.begin() as conn:
            ctl.store.update_job(conn, lv.job_id, {**_stored(conn, lv), "predicted_end": act.start + new},
                                 (lv.job_id, now, "RUNNING", why))  # fmt: skip
        log.info("job %s %s", lv.job_id, why)


def _cut_back(ctl: Any, lv: Live, act: Any, now: float) -> None:
    """A cut job whose limit moved later goes back to the head's start once the head can start sooner again,
    never below its first cut, and LEAD from now at the soonest so the supervisor hears of it first. The look
    after a prediction (2 * LEAD past it) is kept, so the two rules never undo each other."""
    limit, first = lv.request.time_limit, lv.request.time_cut
    if limit is None or first is None or limit <= first + 2 * LEAD:
        return
    until = cut_back_to(ctl.sched, lv.job_id, now)
    if until == math.inf:
        return
    grace = 2 * LEAD if _rests_on_prediction(ctl, lv.job_id, now, until) is not None else 0.0
    new = max(float(math.floor(until - act.start + grace)), first, float(math.ceil(now - act.start + LEAD)),
              lv.request.time_min or 0.0)  # fmt: skip
    if new >= limit - 2 * LEAD or not ctl.executor.retime(lv.job_id, new):
        return
    _set(lv, new, lowered=True, asked=lv.request.time_asked if lv.request.time_lowered else limit, cut=first)
    act.item = dataclasses.replace(act.item, spec=dataclasses.replace(act.item.spec, time_limit=new),
                                   estimate=new, upper=new)  # fmt: skip
    end = min(act.predicted_end, act.start + new)
    ctl.sched.extend(lv.job_id, end)
    why = (
        f"TimeLimit cut back from {hms(limit)} to {hms(new)}: the job it was cut for can start sooner again"
        f" (never below its first cut, {hms(first)})"
    )
    with ctl.store.engine.begin() as conn:
        ctl.store.update_job(conn, lv.job_id, {**_stored(conn, lv), "predicted_end": end},
                             (lv.job_id, now, "RUNNING", why))  # fmt: skip
    log.info("job %s %s", lv.job_id, why)


def _rests_on_prediction(ctl: Any, job_id: int, now: float, until: float) -> float | None:
    """The head's start ``until`` when it is the predicted end (short of its own limit) of a running job ahead,
    still to come, else None. The cut was that start; the job ahead may outlive its prediction, and a kill at the
    cut would come before anyone could know (QA: a job was killed at its cut while the head stayed blocked 83 s
    more). Only the job the head's start is made of counts: others ending before it change nothing."""
    if not now < until < math.inf:
        return None
    for jid, act in ctl.sched.running.items():
        own = act.start + (act.item.spec.time_limit or math.inf)
        if jid != job_id and abs(act.predicted_end - until) <= 1.0 and act.predicted_end < own - 1.0:
            return until
    return None


def _near_cut(lv: Live, start: float, now: float) -> bool:
    limit = lv.request.time_limit
    return lv.request.time_lowered and limit is not None and now >= start + limit - LEAD

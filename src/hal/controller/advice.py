"""The fix to try for a pending job, next to its ETA (`hal explain`): jobs of this name by this user have
finished well inside their time limit, and asking for less would let backfilling start this one sooner.

Both starts are the planner's (point predictions, no further arrivals) on clones of the scheduler, with the job
as submitted and with the shorter limit; nothing is suggested unless the shorter limit starts it sooner."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from hal.engine.advice import limit_if_min, start_if
from hal.engine.nodes import NodeBook
from hal.engine.request import Request
from hal.executors.hostlist import compress

RUNS = 20  # the user's last jobs of the same name that are looked at (completed, or killed at their limit)
MIN_RUNS = 3  # fewer than this: no advice (one lucky run says little)
MARGIN = 1.5  # the suggested limit: the longest of those runs times this, in whole minutes


def time_advice(ctl: Any, job_id: int) -> dict[str, Any] | None:
    """None when there is nothing to compare (not pending, no limit, too few earlier runs, or they took most
    of the limit); else the suggested ``time_limit``, the runs it rests on, and both planned starts."""
    with ctl.lock:
        lv = ctl.live.get(job_id)
        if lv is None or lv.state != "PENDING" or not lv.spec.time_limit or not lv.request.name:
            return None
        limit, user, name = float(lv.spec.time_limit), lv.user, lv.request.name
        snap, now = ctl.sched.clone(history=False), ctl.clock()
    ended = [r for r in ctl.store.recent_runs(user, name, RUNS, ("COMPLETED", "TIMEOUT")) if r["id"] != job_id]
    if any(r["state"] == "TIMEOUT" for r in ended):  # some did not fit their limit: a shorter one is no advice (QA:
        return None  # three runs killed at 1:00 were passed over and --time=1:00 suggested)
    runs = [r["end_time"] - r["start_time"] for r in ended]
    if len(runs) < MIN_RUNS:
        return None
    longest = max(runs)
    suggested = 60.0 * max(1, math.ceil(longest * MARGIN / 60.0))
    if suggested > 0.8 * limit:
        return None
    now_start, then_start = start_if(snap, now, job_id), start_if(snap, now, job_id, suggested)
    return {
        "time_limit": suggested,
        "runs": len(runs),
        "longest_run": longest,
        "planned_start": now_start,
        "planned_start_with": then_start,
        "sooner": then_start is not None and (now_start is None or then_start < now_start - 60.0),
    }


def min_advice(ctl: Any, job_id: int) -> dict[str, Any] | None:
    """Whether accepting a shorter limit (--time-min) would let backfill start a pending job now, and with what
    limit; ``time_min`` is the one to ask for: its predicted run time in whole minutes, when the limit it would get
    covers that (None: the limit on offer is shorter than the run predicted, so it would likely be killed)."""
    with ctl.lock:
        lv = ctl.live.get(job_id)
        item = ctl.sched.queue.get(job_id)
        if lv is None or lv.state != "PENDING" or item is None or not lv.spec.time_limit or lv.spec.time_min:
            return None
        snap, now, predicted = ctl.sched.clone(history=False), ctl.clock(), float(item.estimate)
    offered = limit_if_min(snap, now, job_id)
    if offered is None:
        return None
    wanted = 60.0 * max(1, math.ceil(predicted / 60.0))
    return {"limit": offered, "predicted_run": predicted, "time_min": wanted if wanted <= offered else None}


def candidates(ctl: Any, job_id: int, k: int = 3) -> list[dict[str, Any]]:
    """For a pending job on a topology-aware cluster: the best placements the machine offers it right now (one
    domain each, cheapest score first) with their score parts; empty when nothing fits now or the selector
    keeps no score (first fit). Only ones it could take (alternatives()); its --switches may still wait them out."""
    from hal.engine.plugins.placement_explain import alternatives
    from hal.engine.plugins.topology import TopologySelector

    with ctl.lock:
        sched = ctl.sched
        item = sched.held.get(job_id) or sched.queue.get(job_id)
        sel = getattr(ctl.book.select, "inner", ctl.book.select)
        if item is None or not isinstance(sel, TopologySelector):
            return []
        found = [p.as_dict() for p in alternatives(sel, as_seen_by(ctl.book, item.req), item.req, k)]
    names = ctl.book.table.names
    for p in found:  # named, as hal explain shows them (it said "candidate 1")
        p["nodes"] = compress(names[int(i)] for i in p.get("nodes") or [])  # type: ignore[union-attr]
    return found


def as_seen_by(book: NodeBook, req: Request) -> NodeBook:
    """The book with no room on the nodes a sharing mode keeps from ``req`` (another user's --exclusive=user
    job, a block an --exclusive=topo job holds, or for an --exclusive=topo job every block in use):
    alternatives() reads room from free resources alone, so it offered placements there the job cannot have."""
    blocked = book.blocked(req)
    if blocked is None or not blocked.any():
        return book
    seen = copy.copy(book)  # shares everything but the free matrix replaced here
    seen.free = np.where(blocked[:, None], 0, book.free)
    return seen

"""What the API adds to job records about how their plan was made, beyond ``views.record``'s public fields:
``forecast_pending`` (a pending job's start forecast is still being made in the background, so clients can tell
"ask again in a few seconds" from "no forecast": hal/controller/reasons.py), ``runtime_assumed`` (seconds: the
planner runs the job for its 1-hour default as it has no time limit and its predictor no history) and
``sched_nodes`` (the nodes the planner holds for a pending job, squeue's SCHEDNODES) and ``start_unknown`` (why the
forecast gives a job waiting for cache room no start: hal/controller/cache_forecast.py)."""

from __future__ import annotations

from typing import Any

from hal.controller.reasons import FORECAST_NODES
from hal.engine.predict.basic import DEFAULT_LIMIT
from hal.executors.hostlist import compress

FIELD = "forecast_pending"
ASSUMED = "runtime_assumed"
PLANNED = "sched_nodes"
UNKNOWN = "start_unknown"


def with_forecast_state(row: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` with the row's ``forecast_pending`` when the listing asked for forecasts (pending jobs only), and
    ``runtime_assumed`` and ``sched_nodes`` where ``assumed_runtimes`` and ``planned_nodes`` found them."""
    if FIELD in row:
        rec[FIELD] = bool(row[FIELD])
    if row.get(ASSUMED):
        rec[ASSUMED] = DEFAULT_LIMIT
    if row.get(UNKNOWN):
        rec[UNKNOWN] = row[UNKNOWN]
    if row["state"] == "PENDING":
        rec[PLANNED] = row.get(PLANNED)
    return rec


def assumed_runtimes(ctl: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks the pending and running rows the planner plans on ``DEFAULT_LIMIT`` only because the job has no time
    limit and the predictor nothing better (the user estimate always; a learning one before any history): their
    PredictedEnd, and every forecast behind them, rest on that guess, which `hal show` then says."""
    with ctl.lock:
        for r in rows:
            if r["state"] not in ("PENDING", "RUNNING"):
                continue
            act = ctl.sched.running.get(r["id"])
            item = act.item if act is not None else ctl.sched.queue.get(r["id"])
            if item is not None and item.spec.time_limit is None and item.estimate == DEFAULT_LIMIT:
                r[ASSUMED] = True
    return rows


def planned_nodes(ctl: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """squeue's SCHEDNODES (%Y): the nodes the planner holds for a pending job, where it knows them (EASY's
    head, placed at its shadow time; conservative backfill's slot for each job it booked), else where the forecast
    run whose start is the job's p50 starts it (Slurm's backfill plans every job in its window and shows where:
    QA, only the head had nodes; ``StartEstimate.nodes``); None elsewhere."""
    names = getattr(getattr(ctl.book, "table", None), "names", None)
    if names is None:
        return rows
    with ctl.lock:
        s, drained = ctl.sched, getattr(ctl, "drained", None) or {}
        memo = s.easy_memo
        for r in rows:
            if r["state"] != "PENDING":
                continue
            jid = r["id"]
            slot = s.slots.get(jid)
            alloc = slot[2] if slot is not None else None
            if alloc is None and memo is not None and memo.head.spec.job_id == jid and memo.shadow >= 0:
                alloc = memo.planned if s.reservations.get(jid) == memo.shadow else None
            if alloc is None and jid == s.head_id and s.profile.backfill == "easy":
                alloc = _head_plan(s, jid)
            nodes = getattr(alloc, "nodes", None) if alloc is not None else r.get(FORECAST_NODES)
            if alloc is None and nodes and any(names[int(i)] in drained for i in nodes):
                nodes = None  # a forecast made before a drain, shown while a slow new one is made: not its nodes
            if nodes is not None and len(nodes):
                r[PLANNED] = compress(names[int(i)] for i in nodes)
    return rows


def _head_plan(s: Any, job_id: int) -> Any:
    """Where EASY would reserve the head now: a pass computes its shadow only when some candidate fits now
    (QA: SCHEDNODES stayed (null) for the head under the default profile), so it is computed here, on a
    snapshot of the book (nothing in the scheduler changes)."""
    from hal.engine.backfill import shadow_of

    item = s.queue.get(job_id)
    return None if item is None else shadow_of(s, item)[2]


def unknown_starts(ctl: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks the pending rows the latest forecasts give no start because their cache room has no known time, with
    why (`hal explain` said "one has no time limit" of every one, whatever kept it unknown)."""
    unknown = getattr(getattr(ctl, "board", None), "unknown", None) or {}
    for r in rows:
        if r["state"] == "PENDING" and r.get("predicted_start") is None and r["id"] in unknown:
            r[UNKNOWN] = unknown[r["id"]]
    return rows

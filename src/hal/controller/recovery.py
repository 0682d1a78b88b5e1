"""Restart: rebuild the engine from the store, reattach running jobs through the executor, requeue or fail
the ones whose processes are gone, and recharge fair-share usage from the accounting records."""

from __future__ import annotations

import functools
import logging

from hal.controller.contracts import Gate
from hal.controller.core import Controller
from hal.controller.drain import apply_drains
from hal.controller.jobs import Live, alloc_from_json, deps_of, request_of_row
from hal.controller.parked import note_stale
from hal.controller.requeue import asked_before_restart
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState

log = logging.getLogger("hal.controller")


def recover(ctl: Controller) -> dict[str, int]:
    """Called once before the loop starts; returns counts of what it found, for the server's log."""
    now = ctl.clock()
    for r in ctl.store.usage_rows():
        cpu_s = (r["end_time"] - r["start_time"]) * (r["alloc_cpus"] or 0)
        ctl.sched.ledger.charge(r["user"], cpu_s, r["end_time"])
        ctl.accounts.charge(r["account"] or r["user"], cpu_s, r["end_time"])
    rows = ctl.store.active()
    running = [r for r in rows if r["state"] == "RUNNING"]
    pending = [r for r in rows if r["state"] == "PENDING"]
    counts = {"pending": len(pending), "running": len(running), "reattached": 0, "ended": 0, "parked": 0}
    reports = ctl.executor.reattach([r["id"] for r in running]) if running else {}
    first = functools.lru_cache(maxsize=64)(ctl.store.get)  # an array's first task row: its script, environment
    ended: list[ExecEvent] = []
    with ctl.lock:
        for r in rows:
            req = request_of_row(r, first)
            if r["array_job_id"] is not None and req.array_limit is not None:
                ctl.gates.setdefault(r["array_job_id"], Gate(req.array_limit))
        for r in running:
            lv = ctl._live(r, request_of_row(r, first), deps_of(r))
            ctl.live[lv.job_id] = lv
            if lv.array_job_id in ctl.gates:
                ctl.gates[lv.array_job_id].inflight += 1
            alloc, held = alloc_from_json(r["alloc"])
            ctl.machine.restore(lv.job_id, held)
            ctl._ensure_known([d.job_id for d in lv.spec.dependencies if d.job_id not in ctl.sched.known])
            end = r["predicted_end"] if r["predicted_end"] is not None else r["start_time"] + 3600.0
            ctl.sched.adopt(lv.spec, alloc, r["start_time"], end)
            asked, cancelled = asked_before_restart(ctl, lv.job_id, r["start_time"])  # hal requeue / cancel
            if asked is not None:
                ctl.requeueing[lv.job_id] = asked
            if cancelled:
                ctl.cancelling.add(lv.job_id)
            report = reports.get(lv.job_id)
            if report is None and lv.job_id not in reports:
                report = ExecEvent(  # unknown to the executor: it may have run, so only --requeue repeats it
                    lv.job_id, ExecEventKind.ENDED, now, JobState.NODE_FAIL, reason="not reattached",
                    start_time=r["start_time"],
                )  # fmt: skip
            if report is None:
                counts["reattached"] += 1
            else:
                ended.append(report)
        note_stale(ctl, pending)  # parked before: told so if this cluster file fits them
        for lv in dependencies_first({r["id"]: ctl._live(r, request_of_row(r, first), deps_of(r)) for r in pending}):
            ctl._enqueue(lv, now)
        if ended:
            ctl._handle(ended)
            counts["ended"] = len(ended)
    counts["drained"] = apply_drains(ctl)
    counts["parked"] = len(ctl.parked.jobs)  # pending jobs this cluster file no longer fits
    log.info("recovered %s", counts)
    return counts


def dependencies_first(lives: dict[int, Live]) -> list[Live]:
    """Pending jobs in id order, except that a job comes after the pending jobs it waits for: `hal update` can
    make a job wait for a later one, and a dependency the engine does not know yet reads as a job that ended
    badly (after a restart the later job was refused as 'already submitted' and FAILED). A cycle is cut."""
    order: list[Live] = []
    seen: set[int] = set()
    for root in sorted(lives):
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter([d.job_id for d in lives[root].spec.dependencies]))]
        while stack:
            job, deps = stack[-1]
            nxt = next((d for d in deps if d in lives and d not in seen), None)
            if nxt is None:
                stack.pop()
                order.append(lives[job])
            else:
                seen.add(nxt)
                stack.append((nxt, iter([d.job_id for d in lives[nxt].spec.dependencies])))
    return order

"""Restart: rebuild the engine from the store, reattach running jobs through the executor, requeue or fail
the ones whose processes are gone or whose nodes this cluster file no longer has, and recharge fair-share usage
from the accounting records.

Usage accrues while jobs run (engine/accrual.py), in memory only: a restart recharges every ended attempt from the
store (each once, at its end), and each running job adopted again is charged from its start (``adopt``: nothing
charged yet), all its elapsed time at the first cycle, then as it accrues. What was charged for it before the
restart is neither lost nor charged twice; only its decay differs (charged at once, not in pieces)."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time

import numpy as np

from hal.controller.contracts import Gate
from hal.controller.core import Controller
from hal.controller.directives import JobRequest
from hal.controller.drain import apply_drains
from hal.controller.jobs import Live, Row, alloc_from_json, deps_of, request_of_row, waiting_since
from hal.controller.orphans import sweep_orphans
from hal.controller.parked import note_stale
from hal.controller.requeue import asked_before_restart
from hal.controller.stage_cut import cut_stage_in
from hal.engine.billing import amounts_billed, held_amounts, parse_weights
from hal.engine.nodes import NodeAlloc
from hal.engine.request import request_of
from hal.engine.sharing import restored
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState

log = logging.getLogger("hal.controller")


def recover(ctl: Controller) -> dict[str, int]:
    """Called once before the loop starts; returns counts of what it found, for the server's log."""
    now = ctl.clock()
    weights = parse_weights(ctl.profile.billing_weights)  # the same units the engine charges (engine/billing.py)
    for r in ctl.store.usage_rows():
        units = amounts_billed(weights, r["alloc_cpus"] or 0, *held_of(r))
        cpu_s = (r["end_time"] - r["start_time"]) * units
        ctl.sched.ledger.charge(r["user"], cpu_s, r["end_time"])
        ctl.accounts.charge(r["account"] or r["user"], cpu_s, r["end_time"])
    rows = ctl.store.active()
    running = [r for r in rows if r["state"] == "RUNNING"]
    pending = [r for r in rows if r["state"] == "PENDING"]
    counts = {"pending": len(pending), "running": len(running), "reattached": 0, "ended": 0, "parked": 0, "lost": 0}
    counts.update(sweep_orphans(ctl, {r["id"] for r in pending}))  # running unknown to the database: killed
    reports = ctl.executor.reattach([r["id"] for r in running]) if running else {}
    first = functools.lru_cache(maxsize=64)(ctl.store.get)  # an array's first task row: its script, environment
    ended: list[ExecEvent] = []
    lost: dict[int, tuple[str, Row]] = {}  # running here, on nodes this cluster file lost: why, its row
    with ctl.lock:
        reqs = {r["id"]: request_of_row(r, first) for r in rows}  # each parsed once: a big array has many
        for r in rows:
            req = reqs[r["id"]]
            if r["array_job_id"] is not None and req.array_limit is not None:
                ctl.gates.setdefault(r["array_job_id"], Gate(req.array_limit))
        topo_last = sorted(running, key=lambda row: reqs[row["id"]].exclusive == "topo")  # see sharing.restored
        for r in topo_last:
            lv = ctl._live(r, reqs[r["id"]], deps_of(r))
            ctl.live[lv.job_id] = lv
            if lv.array_job_id in ctl.gates:
                ctl.gates[lv.array_job_id].inflight += 1
            alloc, why = reclaim(ctl, lv, r)
            if alloc.nodes.size:  # its --exclusive=user|topo keeps what it kept before (engine/sharing.py)
                alloc = restored(ctl.sched.book, alloc, request_of(lv.spec, ctl.sched.space))
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
            if alloc.nodes.size == 0:  # its nodes are gone: it ended with them, or it is stopped now
                if report is None:
                    lost[lv.job_id] = (why, r)
                else:
                    ended.append(ended_while_down(ctl, lv, report, why, r))
            elif report is None:
                counts["reattached"] += 1
            elif (cut := cut_stage_in(ctl, lv, r, report)) is not None:  # caught staging its inputs: no node
                ended.append(cut)  # failed, it goes back to the queue (said in the log)
            else:
                ended.append(report)
                if report.state is JobState.NODE_FAIL:  # QA: only the count of ended jobs said so
                    again = lv.requeue or (report.start_time is None and not report.unknown)  # as Controller ends it
                    log.warning(
                        "job %s ends NODE_FAIL%s: %s", lv.job_id, " and is requeued" if again else "",
                        report.reason or "its processes were not found at restart",
                    )  # fmt: skip
        if lost:
            ended.extend(stop_lost(ctl, lost))
            counts["lost"] = len(lost)
        note_stale(ctl, pending)  # parked before: told so if this cluster file fits them
        for lv in dependencies_first({r["id"]: _pending(ctl, r, reqs[r["id"]]) for r in pending}):
            ctl._enqueue(lv, now)
        if ended:
            ctl._handle(ended)
            counts["ended"] = sum(e.kind is ExecEventKind.ENDED for e in ended)
    counts["drained"] = apply_drains(ctl)
    counts["parked"] = len(ctl.parked.jobs)  # pending jobs this cluster file no longer fits
    log.info("recovered %s", counts)
    return counts


def _pending(ctl: Controller, row: Row, req: JobRequest) -> Live:
    """A pending job as it was: its --switches wait and data delay count on from when it could first start."""
    lv = ctl._live(row, req, deps_of(row))
    lv.spec = waiting_since(lv.spec, json.loads(row["request"]))
    return lv


def reclaim(ctl: Controller, lv: Live, row: Row) -> tuple[NodeAlloc, str]:
    """A running job's allocation on this cluster file (hal/controller/machine.py: its nodes found by name), its
    CPU and GPU ids taken again; or an empty one and why its nodes are gone (a node removed or renamed, or one that
    shrank below its share): the engine books it holding nothing, so it ends as any other job."""
    stored, held = alloc_from_json(row["alloc"])
    kept = ctl.machine.reclaim(row["nodelist"] or "", held, stored.amounts, ctl.book.free)
    if isinstance(kept, str):
        return NodeAlloc(np.empty(0, np.intp), np.empty((0, ctl.book.free.shape[1]), np.int64)), kept
    ctl.machine.restore(lv.job_id, kept[0])
    return NodeAlloc(np.array([h[0] for h in kept[0]], dtype=np.intp), kept[1]), ""


def ended_while_down(ctl: Controller, lv: Live, report: ExecEvent, why: str, row: Row) -> ExecEvent:
    """The end of a job that finished while the server was down, on nodes since removed: as it ended (a lost one
    says why too), but its --output-data can no longer be staged out from there, so a COMPLETED one with outputs
    FAILED."""
    _charge(ctl, lv, row, report.time)
    log.warning("job %s ended while the server was down, on nodes this cluster file lost: %s", lv.job_id, why)
    if report.state is JobState.COMPLETED and lv.spec.outputs:
        return dataclasses.replace(report, state=JobState.FAILED, reason=f"{why}: its outputs were never staged out")
    if report.state is JobState.NODE_FAIL:
        return dataclasses.replace(report, reason=f"{why}; {report.reason}")
    return report


def stop_lost(ctl: Controller, lost: dict[int, tuple[str, Row]], wait: float = 5.0) -> list[ExecEvent]:
    """Running jobs whose nodes this cluster file lost (Slurm's NODE_FAIL at a reconfigure): their processes, still
    running here, are killed (no grace, as a node failure gives none), and waited for, so nothing runs unaccounted
    and a --requeue attempt never meets the one before it; each ends NODE_FAIL with why, its accounting from the
    executor's record. Returns those ends, and the other events read meanwhile (of the jobs reattached)."""
    for jid in lost:
        ctl.executor.cancel(jid, 0.0)
    seen: dict[int, ExecEvent] = {}
    others: list[ExecEvent] = []
    deadline = time.monotonic() + wait
    while len(seen) < len(lost):
        for ev in ctl.executor.events():
            if ev.job_id in lost and ev.kind is ExecEventKind.ENDED:
                seen[ev.job_id] = ev
            else:
                others.append(ev)
        if len(seen) < len(lost):
            if time.monotonic() > deadline:
                log.warning(
                    "jobs %s lost their nodes but may still run here: no end reported", sorted(set(lost) - set(seen))
                )
                break
            time.sleep(0.02)
    now = ctl.clock()
    ends = []
    for jid, (why, row) in lost.items():
        got = seen.get(jid)
        end = ExecEvent(jid, ExecEventKind.ENDED, now) if got is None else got
        ends.append(
            dataclasses.replace(
                end, state=JobState.NODE_FAIL, reason=why, start_time=end.start_time or row["start_time"]
            )
        )
        _charge(ctl, ctl.live[jid], row, end.time)
        log.warning("job %s ends NODE_FAIL%s: %s", jid, " and is requeued" if ctl.live[jid].requeue else "", why)
    return ends + others


def _charge(ctl: Controller, lv: Live, row: Row, when: float) -> None:
    """Fair-share usage of a run whose nodes are gone (the engine's booking of it holds no CPUs to charge): to its
    account (`hal usage`) and to its user in the engine's ledger, which orders the queue and `hal shares` shows (QA:
    only the account was charged, so the user's usage dropped until a second restart read the ended record)."""
    weights = parse_weights(ctl.profile.billing_weights)
    units = amounts_billed(weights, int(row["alloc_cpus"] or 0), *held_of(row))
    used = max(when - row["start_time"], 0.0) * units
    ctl.sched.ledger.charge(lv.user, used, when)
    ctl.accounts.charge(lv.request.account or lv.user, used, when)


def held_of(row: Row) -> tuple[int, int]:
    """Memory and GPUs a record's allocation held (what the engine billed it live); a record without one (from
    before allocations were kept) what it asked for."""
    held = held_amounts(alloc_from_json(row["alloc"])[0]) if row.get("alloc") else None
    return held if held is not None else (int(row.get("req_mem_mb") or 0), int(row.get("req_gpus") or 0))


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

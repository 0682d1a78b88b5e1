"""`hal requeue` (scontrol requeue): a running job is stopped, or an ended one taken back, and it goes back to the
queue under the same id as a new attempt (SLURM_RESTART_COUNT grows; with --open-mode=append its output continues).
An administrator moves work off a node this way, a user restarts a job that went wrong. A job still staging its
inputs (CONFIGURING) counts as running, as scontrol requeue takes a configuring job: its copy is stopped."""

from __future__ import annotations

import json
from typing import Any

from hal.controller.attempts import BACK, record_attempt
from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.holds import gate_of
from hal.controller.jobs import Live, deps_of, request_of_row
from hal.controller.lowered_limit import restore_limit
from hal.controller.targets import running_targets
from hal.executors.api import ExecEvent


def requeue(ctl: Any, ref: str, who: Identity) -> list[int]:
    """Requeues every running (or configuring) or ended job ``ref`` names; returns their ids. A running job's
    processes get SIGTERM, then SIGKILL after the grace period, and when they are gone it is PENDING again (the
    controller's end handling does that); a configuring one's copy is stopped instead."""
    ids = ctl.resolve(ref)
    with ctl.lock:
        rows, running, staging = running_targets(ctl, ids, ref, who, "requeue")
        configuring = [j for j in ids if j in staging and j in ctl.live and ctl.live[j].state == "RUNNING"]
        ended = [j for j in ids if j not in ctl.live and j in rows and rows[j]["state"] in ENDED]
        if not running and not configuring and not ended:
            states = sorted({str(rows[j]["state"]) for j in ids if j in rows})
            why = "its outputs are being staged out: wait for it to end, or cancel it" if "STAGE_OUT" in states else ""
            raise SubmitError(
                f"cannot requeue job {ref}: only running or ended jobs are requeued ({', '.join(states)}); "
                + (why or "a pending job is already queued")
            )
        writes = [j for j in ended if rows[j]["state"] == "COMPLETED" and json.loads(rows[j]["request"]).get("outputs")]
        if writes:  # only a completed job published its outputs (a failed one never does)
            raise SubmitError(f"cannot requeue job {writes[0]}: its --output-data are published; submit it again")
        _outputs_still_free(ctl, ended, rows)
        done = [j for j in running if j not in ctl.cancelling]  # a cancel came first: it ends CANCELLED
        staged = [j for j in configuring if j not in ctl.cancelling or j in ctl.requeueing]  # (asked twice)
        if not done and not staged and not ended:
            raise SubmitError(f"cannot requeue job {ref}: it is being cancelled")
        now = ctl.clock()
        with ctl.store.engine.begin() as conn:  # kept, so a controller restart before the job stops still requeues
            ctl.store.add_events(conn, [(j, now, ASKED, f"requeue asked by {who.user}") for j in done + staged])
            for jid in ended:
                _again(ctl, conn, rows[jid], who, now)
        for jid in done:
            ctl.requeueing[jid] = who.user
            ctl.executor.cancel(jid, ctl.grace)
        for jid in staged:  # its copy stops within a chunk (the partial copy removed); its stage-in thread then
            ctl.requeueing[jid] = who.user  # ends the attempt, and the end handling frees its cache room and
            ctl.cancelling.add(jid)  # requeues it. Not here: a new attempt could stage beside the old copy, whose
        ctl.wake.set()  # thread, on its return, would take it for its own and end it

    return done + staged + ended


ENDED = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "OUT_OF_MEMORY", "NODE_FAIL")  # not STAGE_OUT: settling


def _again(ctl: Any, conn: Any, row: dict[str, Any], who: Identity, now: float) -> None:
    """An ended job back in the queue under its id, as a new attempt (scontrol requeue takes finished batch
    jobs too): jobs that depend on it wait for how this attempt ends."""
    lv = ctl._live({**row, "state": "PENDING"}, request_of_row(row, ctl.store.get), deps_of(row))
    lv.restarts += 1
    ctl.cancelling.discard(lv.job_id)  # left by a cancel while it staged (no end report cleared it): the new
    ctl.requeueing.pop(lv.job_id, None)  # attempt's stage-in stopped at once and it ended CANCELLED again
    ctl.sched.forget(lv.job_id)
    forget_outputs(ctl, lv.job_id)
    cause = f"requeued by {who.user} after it ended {row['state']}"
    end, charged = (now, False) if row["end_time"] is None else (row["end_time"], True)  # charged when it ended
    record_attempt(conn, lv.job_id, end, "REQUEUED", cause, charged=charged)  # Slurm's REQUEUED, whatever it was
    ctl.store.add_events(conn, [(lv.job_id, now, "REQUEUED", cause)])
    values = {
        "state": "PENDING", "start_time": None, "end_time": None, "nodelist": "", "alloc": "", "exit_code": None,
        "signal": None, "restarts": lv.restarts, "cause": "requeued", "cpu_seconds": 0.0, "max_rss_mb": 0.0,
        "predicted_end": None, "alloc_cpus": 0, **restore_limit(conn, lv),
    }  # fmt: skip
    ctl.store.update_job(conn, lv.job_id, values, (lv.job_id, now, *BACK))
    array, limit = lv.array_job_id, lv.request.array_limit
    if array is not None and limit is not None:  # its array may have ended before a restart
        gate_of(ctl, array, limit)
    ctl._enqueue(lv, now)
    for other in [o for o in ctl.live.values() if any(d.job_id == lv.job_id for d in o.spec.dependencies)]:
        if other.job_id in ctl.sched.held or ctl.sched.queue.get(other.job_id) is not None:  # it had seen this job
            ctl.sched.withdraw(other.job_id)  # end, or waits for it: handed over again, as if submitted now, it
            ctl._to_engine(other, now)  # waits for the new attempt (deferred while that one is behind its %limit)


def back_to_queue(
    ctl: Any, conn: Any, lv: Live, when: float, cause: str, event: str, n: int, ended: ExecEvent | None
) -> None:
    """A running job back in the queue under its id, ``n`` restarts more: NODE_FAIL with --requeue, `hal requeue`
    or a failed stage-in (hal/data/live.py). The attempt that ended is kept first (``event`` its state); one the
    executor reported ended (``ended``) was charged to fair share, a stage-in that failed was not."""
    record_attempt(conn, lv.job_id, when, event, cause, charged=ended is not None, ended=ended)
    ctl.sched.forget(lv.job_id)
    forget_outputs(ctl, lv.job_id)
    lv.state, lv.restarts = "PENDING", lv.restarts + n
    ctl.store.add_events(conn, [(lv.job_id, when, event, cause)])
    values = {"state": "PENDING", "start_time": None, "nodelist": "", "alloc": "", "alloc_cpus": 0,
              "predicted_end": None, "restarts": lv.restarts, "cause": "requeued",
              **restore_limit(conn, lv)}  # fmt: skip
    ctl.store.update_job(conn, lv.job_id, values, (lv.job_id, when, *BACK))
    gate = ctl.gates.get(lv.array_job_id) if lv.array_job_id is not None else None
    if gate is None:
        ctl._to_engine(lv, when)
        return
    gate.inflight -= 1  # it no longer runs: it starts again within its array's %limit, lowered since or not (QA:
    ctl._enqueue(lv, when)  # a requeued task of an array over ArrayTaskThrottle=1 restarted as a 4th at once)


def _outputs_still_free(ctl: Any, ended: list[int], rows: dict[int, Any]) -> None:
    """An ended job taken back writes its --output-data again: refused, as at submission, when a dataset of that
    name was registered or another job declared it meanwhile (QA: both published, the last replaced the other)."""
    if ctl.staging is None:
        return
    produced = {name for lv in ctl.live.values() for name in lv.spec.outputs}
    for jid in ended:
        outputs = json.loads(rows[jid]["request"]).get("outputs") or []
        why = ctl.staging.refuse_outputs(outputs, produced) if outputs else None
        if why is not None:
            raise SubmitError(f"cannot requeue job {jid}: {why}")


def forget_outputs(ctl: Any, job_id: int) -> None:
    """The stage-out an earlier attempt left (cancelled, failed or concluded) forgotten, so the new attempt's
    outputs are staged out when it completes (QA: a requeue after a cancelled stage-out sat in STAGE_OUT for good)."""
    outputs = getattr(getattr(ctl, "staging", None), "outputs", None)
    if outputs is not None:
        outputs.forget(job_id)


ASKED = "REQUEUE"  # the event of a requeue request; REQUEUED when the job is back in the queue


def asked_before_restart(ctl: Any, job_id: int, started: float) -> tuple[str | None, bool]:
    """(who asked to requeue it, whether a cancel was asked) since this running job started, read back from its
    events at a restart: both lived in memory, so a kill -9 lost them (the job ran again after a cancel)."""
    requeue, cancel = None, False
    for ev in ctl.store.events_of(job_id):  # in the order they were written
        if (ev["state"], ev["cause"]) == BACK:  # that request was served: the job went back to the queue after it
            requeue = None  # (CI: a run started in the cycle that took it back bore a start before the request)
            continue
        if ev["time"] < started:
            continue
        if ev["state"] == ASKED:
            requeue = str(ev["cause"]).removeprefix("requeue asked by ")
        elif ev["state"] == "CANCEL":
            cancel = True
    return (None if cancel else requeue), cancel

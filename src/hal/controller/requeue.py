"""`hal requeue` (scontrol requeue): a running job is stopped and goes back to the queue under the same id, as a
new attempt (SLURM_RESTART_COUNT grows; with --open-mode=append its output continues). An administrator moves
work off a node this way, a user restarts a job that went wrong."""

from __future__ import annotations

from typing import Any

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.targets import running_targets


def requeue(ctl: Any, ref: str, who: Identity) -> list[int]:
    """Requeues every running job ``ref`` names; returns their ids. Its processes get SIGTERM, then SIGKILL after
    the grace period, and when they are gone it is PENDING again (the controller's end handling does that)."""
    ids = ctl.resolve(ref)
    with ctl.lock:
        rows, running, staging = running_targets(ctl, ids, ref, who, "requeue")
        if not running:
            states = sorted({"CONFIGURING" if j in staging else str(rows[j]["state"]) for j in ids if j in rows})
            raise SubmitError(
                f"cannot requeue job {ref}: only running jobs are requeued ({', '.join(states)}); "
                "a pending job is already queued, an ended one can be submitted again"
            )
        done = [j for j in running if j not in ctl.cancelling]  # a cancel came first: it ends CANCELLED
        if not done:
            raise SubmitError(f"cannot requeue job {ref}: it is being cancelled")
        with ctl.store.engine.begin() as conn:  # kept, so a controller restart before the job stops still requeues
            ctl.store.add_events(conn, [(j, ctl.clock(), ASKED, f"requeue asked by {who.user}") for j in done])
        for jid in done:
            ctl.requeueing[jid] = who.user
            ctl.executor.cancel(jid, ctl.grace)
        ctl.wake.set()
    return done


ASKED = "REQUEUE"  # the event of a requeue request; REQUEUED when the job is back in the queue


def asked_before_restart(ctl: Any, job_id: int, started: float) -> tuple[str | None, bool]:
    """(who asked to requeue it, whether a cancel was asked) since this running job started, read back from its
    events at a restart: both lived in memory, so a kill -9 lost them (the job ran again after a cancel)."""
    requeue, cancel = None, False
    for ev in ctl.store.events_of(job_id):
        if ev["time"] < started:
            continue
        if ev["state"] == ASKED:
            requeue = str(ev["cause"]).removeprefix("requeue asked by ")
        elif ev["state"] == "CANCEL":
            cancel = True
    return (None if cancel else requeue), cancel

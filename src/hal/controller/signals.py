"""`hal cancel -s SIG` (scancel --signal): a signal to running jobs that does not cancel them, for a checkpoint
now, a log rotation, a pause (STOP/CONT). Each delivery is an event of the job, so `hal show` tells who sent it."""

from __future__ import annotations

import signal
from typing import Any

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.option_values import signal_number
from hal.controller.targets import running_targets
from hal.executors.proctree import ALL, BATCH, STEPS


def signal_jobs(ctl: Any, ref: str, who: Identity, name: str, batch: bool = False, full: bool = False) -> list[int]:
    """Sends the signal to every running job ``ref`` names; returns the ids it reached. As scancel: to the job's
    steps by default (the processes the script started, `srun` tasks, not the batch shell nor `srun` itself),
    -b/--batch to the batch shell alone, -f/--full to all of them; SIGKILL cancels the jobs."""
    sig = signal_number(name, f"--signal={name}")
    if sig == signal.SIGKILL:  # scancel -s KILL cancels: pending jobs end, running ones are killed, CANCELLED
        return list(ctl.cancel(ref, who, grace=0.0))
    whom = ALL if full else BATCH if batch else STEPS
    ids = ctl.resolve(ref)
    now = ctl.clock()
    with ctl.lock:
        rows, running, staging = running_targets(ctl, ids, ref, who, "signal")
        if not running and any(j in staging for j in ids):
            raise SubmitError(f"cannot signal job {ref}: it is staging its inputs (CONFIGURING), nothing runs yet")
        reached = [j for j in running if ctl.executor.signal(j, sig, whom)]
        if not reached:
            states = sorted({str(rows[j]["state"]) for j in ids if j in rows})
            if "RUNNING" in states and whom == STEPS:  # a script that started nothing: no step to signal
                raise SubmitError(
                    f"job {ref} runs no step (nothing its script started) to signal; -b signals the script"
                )
            raise SubmitError(f"cannot signal job {ref}: none of its processes runs ({', '.join(states)})")
        what = f"{_name(sig)} sent by {who.user}"
        scope = {ALL: "all its processes", STEPS: "its steps", BATCH: "its batch shell"}[whom]
        with ctl.store.engine.begin() as conn:
            ctl.store.add_events(conn, [(j, now, "SIGNAL", f"{what} to {scope}") for j in reached])
    return reached


def _name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:  # a real-time signal between SIGRTMIN and SIGRTMAX
        return f"signal {sig}"

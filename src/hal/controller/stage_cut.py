"""A job a controller restart caught staging its inputs (a kill -9, or a stop, during its stage-in): it holds its
nodes as RUNNING (CONFIGURING) while the copy runs, but nothing was launched yet, so the executor has no trace of
it. It goes back to the queue and is staged again, said as such (the restart logged and recorded it as "NODE_FAIL:
node failure: no trace of the job in the spool (launched elsewhere?)", and `hal history -D` showed that as its
requeued attempt's reason, while no node had failed). A requeue, it counts in Restarts and SLURM_RESTART_COUNT as
every requeue does in Slurm (it showed 0 where a failed stage-in's requeue showed 1, QA); but nothing failed, so it
uses up none of the stage-in's max_requeues (``stage_retries``)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from hal.controller.store import Store
from hal.executors.api import ExecEvent
from hal.executors.hostlist import expand
from hal.model.job import JobState

log = logging.getLogger("hal.controller")

CUT = "the controller restarted during its stage-in"


def cut_stage_in(ctl: Any, lv: Any, row: dict[str, Any], report: ExecEvent) -> ExecEvent | None:
    """The executor's report on a running job at a restart, with the reason that fits when the job was still
    staging its inputs (it ends NODE_FAIL without ever starting, and its $HAL_DATA was never made: that is made
    right before the launch); None for any other job. With no data plane to stage it now, it is parked when it is
    queued again (hal/data/fit.py)."""
    if report.state is not JobState.NODE_FAIL or report.start_time is not None or not lv.spec.inputs:
        return None
    staging = ctl.staging
    node = expand(row["nodelist"])[0] if row.get("nodelist") else ""
    if staging is not None and node in staging.stager.caches and staging.stager.job_dir(node, lv.job_id).exists():
        return None  # its inputs had arrived and it was being launched: the executor's reason stands
    then = "staged again" if staging is not None else "this server has no data plane to stage it"
    log.warning("job %s: %s; it goes back to the queue (%s)", lv.job_id, CUT, then)
    # its copy ran in the controller that died: it ended then, and the downtime is not charged to its user
    stopped = report.time if ctl.down_since is None else min(report.time, ctl.down_since)
    return dataclasses.replace(report, reason=f"{CUT}; {then}", time=stopped, unknown=False)  # known: never launched


def stage_retries(store: Store, job_id: int, restarts: int) -> int:
    """A job's ``restarts`` as [data] max_requeues counts them (and the hold before the next try doubles with):
    all but those a controller restart caused during its stage-in, where nothing had failed."""
    cuts = sum(1 for e in store.events_of(job_id) if e["state"] == "REQUEUED" and str(e["cause"]).startswith(CUT))
    return max(restarts - cuts, 0)

"""`hal cancel` of a job in STAGE_OUT (Slurm's SO): scancel acts on any job not yet ended, so a user can stop a
long or stuck stage-out (QA: "job N has already finished", and its dependants waited for a 1 TB copy).

The job's processes are over, so it is no longer among the controller's live jobs; its outputs are copied out on
worker threads (``hal.data.outputs``). The cancel ends it at once, in the records: CANCELLED, "cancelled by USER
during stage-out", each output not yet settled failed with that cause. Its copies stop within a chunk (or at once,
when a write hangs: ``hal.data.watch.watched``) and remove their partial files; nothing is registered in the
catalog; its files stay in its job's folder as a failed stage-out's do (``[data] keep_failed_outputs``). Since the
records say CANCELLED, a restart never stages those outputs out (``hal.data.restart``: only STAGE_OUT and
COMPLETED jobs are caught up). afterok dependants are never satisfied; afterany ones run.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from hal.data.outputs import EVENT, states_from_events
from hal.executors.hostlist import expand

if TYPE_CHECKING:
    from hal.data.outputs import OutputStaging

log = logging.getLogger("hal.data")

SETTLED = ("done", "failed")


def cancel_stage_out(
    outputs: OutputStaging, controller: Any, conn: Any, ids: list[int], now: float, who: str
) -> list[int]:
    """The jobs among ``ids`` (not live) whose stage-out this cancel ended (controller lock held, ``conn`` the
    cancel's transaction). One whose outputs have all settled is left to its conclusion (it already finished)."""
    ended = [j for j in ids if j not in controller.live]
    rows = controller.store.query(job_ids=ended, states=["STAGE_OUT"], limit=1_000_000) if ended else []
    wanted = set(ended)  # job_ids also matches the tasks of an array's first id
    rows = [r for r in rows if int(r["id"]) in wanted]
    found = [(row, states_from_events(controller.store.events_of(int(row["id"])))) for row in rows]  # read first
    done = []
    for row, told in found:
        job_id, cause = int(row["id"]), f"cancelled by {who} during stage-out"
        declared = json.loads(row["request"] or "{}").get("outputs") or []
        with outputs._settled:
            mine = outputs.states.setdefault(job_id, {})
            open_ = [n for n in dict.fromkeys(declared) if not (mine.get(n) or told.get(n, "")).startswith(SETTLED)]
            if not open_ or job_id in outputs.concluded:
                continue
            outputs.cancelled[job_id] = who  # its copies stop at their next chunk, and settle nothing
            outputs.concluded.add(job_id)
            for name in open_:
                if mine.get(name) == "staging":
                    outputs.copying[name] -= 1
                mine[name] = f"failed: {cause}"
                outputs.lost[name] = f"job {job_id}'s stage-out of it failed: {cause}"
            outputs._settled.notify_all()  # a reader waiting for one of them is told it never comes
        events = [(job_id, now, EVENT, f"{n}: failed: {cause}{_kept(outputs, row, n)}") for n in open_]
        controller.store.add_events(conn, events)
        record = (job_id, now, "CANCELLED", cause)
        controller.store.update_job(conn, job_id, {"state": "CANCELLED", "cause": cause}, record)
        controller.sched.remember(job_id, False)  # afterok: never satisfied; afterany: goes
        controller.ended_total["CANCELLED"] += 1
        controller.observer.ended("CANCELLED")
        log.info("job %s: stage-out of %s %s", job_id, ", ".join(open_), cause)
        done.append(job_id)
    return done


def _kept(outputs: OutputStaging, row: dict[str, Any], name: str) -> str:
    """Where the output's file stays (``hal show`` prints it; a restart keeps it ``keep_failed_outputs`` s)."""
    node = expand(row["nodelist"])[0] if row.get("nodelist") else ""
    if node not in outputs.stager.caches:
        return ""
    path = outputs.stager.job_dir(node, int(row["id"])) / name
    return f" (kept at {path})" if (path.is_file() or path.is_dir()) and not path.is_symlink() else ""

"""Removing a failed stage-out's kept outputs before ``[data] keep_failed_outputs`` has passed (`hal dataset
rm-kept JOB`). They hold room in a node cache for the keep window (7 days by default, for good with 0); their owner
who has copied them off, or an administrator who needs the room, had only `rm -rf` in the cache folder, and a job
waiting for that room was told to wait for someone "removing it by hand".

Only an ended job's folder, and only outputs whose failed stage-out an event settles: one whose stage-out is still
under way, or is about to be tried, is not the user's only copy yet. Each removal is recorded on the job, as the
sweep records its own (``restart._unsent``), so `hal show` says where the output went."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hal.data.kept_room import recount
from hal.data.kept_sweep import busy_out, over
from hal.data.outputs import EVENT
from hal.data.restart import sort_outputs

if TYPE_CHECKING:
    from hal.data.live import LiveStaging


class NotKept(ValueError):
    """The job has no kept output to remove now; the message says why."""


def discard_kept(staging: LiveStaging, controller: Any, job_id: int, who: str) -> list[str]:
    """Remove the job's kept outputs from every node cache; ``node:name`` of each removed. Raises NotKept."""
    stager = staging.stager
    with stager.guard():
        row = controller.store.get(job_id)
        if job_id in controller.live or not over(row):
            raise NotKept(f"job {job_id} has not ended: its outputs are its own until then")
        if busy_out(staging, job_id):
            raise NotKept(f"job {job_id}'s outputs are being staged out: nothing is kept yet")
        assert row is not None  # over() is False without a record
        now, history = controller.clock(), controller.store.events_of(job_id)
        removed: list[str] = []
        events = []
        for node in sorted(stager.caches):
            folder = stager.job_dir(node, job_id)
            if not folder.is_dir():
                continue
            out = sort_outputs(row, history, folder, stager.keep_failed_outputs, now)
            if out.unsettled:  # no event settles them: a stage-out may be about to send them (kept_sweep)
                raise NotKept(f"job {job_id}'s output(s) {', '.join(out.unsettled)} in {node}'s cache are not settled")
            kept = {**out.kept, **out.removed}
            if not kept:
                continue
            stager.close_job_dir(node, job_id)
            for name, state in sorted(kept.items()):
                why = state.split(" (kept at ")[0]
                events.append((job_id, now, EVENT, f"{name}: {why} (removed by {who} with hal dataset rm-kept)"))
                removed.append(f"{node}:{name}")
        if not removed:
            raise NotKept(f"job {job_id} has no failed output kept in a node cache")
        with controller.store.engine.begin() as conn:
            controller.store.add_events(conn, events)
    recount(staging, controller)  # the room is free: counted no longer, and jobs waiting for it try again
    return removed

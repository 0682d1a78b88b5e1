"""Held jobs whose holds are over join the queue: a release, dependencies met, a --begin reached.

A job's EligibleTime (Slurm) is when its dependencies were met, not the cycle that noticed: a dependency that
ended while no server ran (found ended at a restart) met it then, so its --switches wait and data delay, which
count from that moment, are not begun again from the restart."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hal.engine.dependencies import dependency_reason
from hal.model.job import DependencyKind, JobSpec, PendingReason

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler
    from hal.engine.queue import Waiting


def promote(sched: Scheduler, now: float) -> None:
    """Move every held job whose hold is over into the queue; the others keep their reasons."""
    for jid, item in list(sched.held.items()):
        reason = hold_reason(sched, item, now)
        if reason is not None:
            sched.reasons[jid] = reason
            continue
        del sched.held[jid]
        since = now
        if item.spec.dependencies:
            since = max(met_at(sched, item.spec, now), item.eligible)  # not before its release
            sched.satisfied[jid] = since
            item = replace(item, eligible=max(item.eligible, since))  # its age counts from here (Slurm)
        if item.req.submit < since and (item.spec.switches is not None or item.spec.inputs):
            item = replace(item, req=replace(item.req, submit=since))  # a copy: clones share the items
            sched._memo_keys(item)  # --switches and data delays count from when it could first start
        sched.queue.add(item)
        sched.reasons.pop(jid, None)


def met_at(sched: Scheduler, spec: JobSpec, now: float) -> float:
    """When the last of a job's dependencies was met: the latest end (a start, for ``after``) of the jobs it
    names, as the engine heard of them; ``now`` when one of them is not known (told only its outcome), and never
    before the job itself could start (its submission, a release or its --begin)."""
    moments, alts = [], []
    for dep in spec.dependencies:
        act = sched.running.get(dep.job_id)
        at = act.start if act is not None and dep.kind is DependencyKind.AFTER else sched.ended_at.get(dep.job_id)
        if dep.kind is DependencyKind.AFTER and dep.delay:  # after:JOB+MIN: MIN minutes after its start
            at = (act.start if act is not None else sched.started.get(dep.job_id, now - dep.delay)) + dep.delay
        if dep.any_of:  # of a '?' list: the first one met (a whole array's tasks each count here)
            met = dependency_reason((replace(dep, any_of=False),), sched.outcomes, sched.running, now, sched.started)
            alts.extend([at] if at is not None and met is None else [])
        elif at is None:
            return now
        else:
            moments.append(at)
    moments.extend([min(alts)] if alts else [now] if any(d.any_of for d in spec.dependencies) else [])
    return min(now, max([spec.submit_time, spec.begin_time or 0.0, *moments]))


def hold_reason(sched: Scheduler, item: Waiting, now: float) -> PendingReason | None:
    spec = item.spec
    if spec.held:
        return PendingReason.JOB_HELD_USER
    if spec.dependencies:
        why = dependency_reason(spec.dependencies, sched.outcomes, sched.running, now, sched.started)
        if why is not None:
            return why
    if spec.begin_time is not None and spec.begin_time > now:
        return PendingReason.BEGIN_TIME
    return None

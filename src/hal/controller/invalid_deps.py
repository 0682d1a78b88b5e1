"""What a cycle found of pending jobs' dependencies. --kill-on-invalid-dep=yes: a job whose dependency can never
be met (afterok on a job that failed) is cancelled at the next cycle instead of pending with
DependencyNeverSatisfied until someone notices. A job whose dependencies were met: when, for its EligibleTime."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from hal.controller.data_waits import release_published
from hal.controller.store import jobs
from hal.model.job import PendingReason


def after_cycle(ctl: Any, now: float) -> None:
    """Called by the controller loop after each cycle, under its lock. An input's writer that failed is no
    invalid dependency once the catalog holds what it was to write (``release_published``): looked at first."""
    note_eligible(ctl)
    release_published(ctl, now)
    cancel_invalid(ctl, now)


def note_eligible(ctl: Any) -> None:
    """Keep, in each job's stored request (``_eligible``), when a cycle found its dependencies met: Slurm's
    EligibleTime moves to that moment (it showed the submit time; QA). The first moment is kept, so a restart
    that finds them met again does not move it."""
    met = ctl.sched.satisfied
    if not met:
        return
    found = dict(met)
    with ctl.store.engine.begin() as conn:  # kept until committed: a failed write tries them again next cycle
        for jid, at in found.items():
            stored = conn.execute(sa.select(jobs.c.request).where(jobs.c.id == jid)).scalar_one_or_none()
            if stored is None:
                continue
            request = json.loads(stored)
            if "_eligible" in request:
                continue
            request["_eligible"] = at
            text = json.dumps(request, separators=(",", ":"))
            conn.execute(sa.update(jobs).where(jobs.c.id == jid).values(request=text))
    ctl.sched.satisfied = {j: at for j, at in ctl.sched.satisfied.items() if j not in found}


def cancel_invalid(ctl: Any, now: float) -> None:
    """Called by the controller loop after each cycle, under its lock."""
    doomed = [
        ctl.live[j]
        for j, why in ctl.sched.reasons.items()
        if why is PendingReason.DEPENDENCY_NEVER_SATISFIED and j in ctl.live and ctl.live[j].request.kill_invalid_dep
    ]
    if not doomed:
        return
    with ctl.store.engine.begin() as conn:
        for lv in doomed:
            ctl._drop_pending(lv)
            cause = "cancelled: a dependency can never be satisfied (--kill-on-invalid-dep)"
            ctl._close(conn, lv, now, "CANCELLED", {"cause": cause})

"""--kill-on-invalid-dep=yes: a job whose dependency can never be met (afterok on a job that failed) is
cancelled at the next cycle instead of pending with DependencyNeverSatisfied until someone notices."""

from __future__ import annotations

from typing import Any

from hal.model.job import PendingReason


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

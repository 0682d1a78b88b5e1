"""Where the live planner expects a running job to end once it has outlived its planned end.

Within its limit, the profile's correction rule extends it (Tsafrir's: to the limit). Past its limit it is being
killed: the executor sends SIGTERM at the limit and SIGKILL a KillWait later, so it ends by then. The correction
ladder would have planned it an hour or more further (60 s, 300 s, ... 18,000 s), and in the instant between the
kill and the end's report a backfill pass saw that made-up hole before the head's reservation and started a job
in it (QA: a --time-min job was lowered into it, and with conservative backfilling any job started there, so the
head waited for it).
"""

from __future__ import annotations

from typing import Any

from hal.controller.lowered_limit import extend_lowered
from hal.engine.cycle import Active
from hal.engine.predict.correct import extend

REPORT_SLACK = 1.0  # s: the end's report follows the kill by a poll


def overrun_end(act: Active, now: float, rule: str, kill_wait: float) -> float:
    """The new planned end of ``act``, strictly after ``now``."""
    elapsed, limit = now - act.start, act.item.spec.time_limit
    if limit and elapsed >= limit:  # killed at its limit: gone by the end of KillWait
        return max(act.start + limit + kill_wait + REPORT_SLACK, now + REPORT_SLACK)
    return act.start + max(extend(elapsed, limit, rule), elapsed + 1.0)


def settle_ends(ctl: Any, now: float) -> None:
    """Before a cycle: every running job planned to have ended by now is planned further (the engine's contract:
    a cycle counts a job past its planned end as gone), then --time-min cuts whose head cannot start by then go
    on (controller/lowered_limit.py), seeing the jobs ahead that outlived their predictions as running on."""
    ends = ctl.sched.ends
    while ends and ends[0][0] <= now:
        act = ctl.sched.running[ends[0][2]]
        ctl.sched.extend(ends[0][2], overrun_end(act, now, ctl.profile.correction, ctl.grace))
    extend_lowered(ctl, now)

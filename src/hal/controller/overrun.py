"""Where the live planner expects a running job to end once it has outlived its planned end.

Within its limit, the profile's correction rule extends it (Tsafrir's: to the limit). Past its limit it is being
killed: the executor sends SIGTERM at the limit and SIGKILL a KillWait later, so it ends by then. The correction
ladder would have planned it an hour or more further (60 s, 300 s, ... 18,000 s), and in the instant between the
kill and the end's report a backfill pass saw that made-up hole before the head's reservation and started a job
in it (QA: a --time-min job was lowered into it, and with conservative backfilling any job started there, so the
head waited for it).
"""

from __future__ import annotations

from hal.engine.cycle import Active
from hal.engine.predict.correct import extend

REPORT_SLACK = 1.0  # s: the end's report follows the kill by a poll


def overrun_end(act: Active, now: float, rule: str, kill_wait: float) -> float:
    """The new planned end of ``act``, strictly after ``now``."""
    elapsed, limit = now - act.start, act.item.spec.time_limit
    if limit and elapsed >= limit:  # killed at its limit: gone by the end of KillWait
        return max(act.start + limit + kill_wait + REPORT_SLACK, now + REPORT_SLACK)
    return act.start + max(extend(elapsed, limit, rule), elapsed + 1.0)

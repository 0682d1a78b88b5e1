"""Which ended runs teach the runtime predictor: a run someone else cut short only says it needed longer.

A user's cancel, an admin's requeue, a preemption or a node failure ends a run at a time that says nothing
about how long the job takes (its elapsed time is only a lower bound), so the predictor is not taught it; fair
share still charges it. A run that ended by itself (COMPLETED, FAILED, OUT_OF_MEMORY) is learned, and so is a
TIMEOUT: its length is its limit, which is what planning needs to know of it. The live controller (``_ended``)
and a restart's relearn (hal.controller.learning) both ask here, so they learn the same runs.
"""

from __future__ import annotations

import re

CUT_SHORT = frozenset({"CANCELLED", "NODE_FAIL", "PREEMPTED", "REQUEUED", "BOOT_FAIL"})
# hal.controller.requeue records a finished job taken back by `hal requeue` as a REQUEUED attempt whose cause
# says how it had ended: that run ended by itself, and the live controller learned it then.
_ENDED_BEFORE = re.compile(r"after it ended ([A-Z_]+)$")


def learnable(state: str) -> bool:
    """Whether a run that ended in ``state`` (a job's final state) teaches the predictor how long jobs take."""
    return state not in CUT_SHORT


def learnable_attempt(state: str, cause: str | None) -> bool:
    """The same for an earlier attempt of a requeued job, as ``job_attempts`` keeps it."""
    ended = _ENDED_BEFORE.search(cause or "") if state == "REQUEUED" else None
    return learnable(ended.group(1) if ended else state)

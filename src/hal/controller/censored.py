"""Which ended runs teach the runtime predictor: a run someone else cut short only says it needed longer.

A user's cancel, an admin's requeue, a preemption or a node failure ends a run at a time that says nothing
about how long the job takes (its elapsed time is only a lower bound), so the predictor is not taught it; fair
share still charges it. A run that ended by itself (COMPLETED, FAILED, OUT_OF_MEMORY) is learned, and so is a
TIMEOUT at the limit the user gave: its length is its limit, which is what planning needs to know of it. A
TIMEOUT at a limit backfill lowered (--time-min) is not: the job was stopped by the scheduler, not its own
limit (QA: a job cut at 36 s had the user's next 10-minute jobs predicted 36 s). The live controller (``_ended``)
and a restart's relearn (hal.controller.learning) both ask here, so they learn the same runs; so do the replays of
a trace (hal simulate, tune and predict-eval), by the end its SWF status records (hal.sim.workload).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a replay asks here too (hal.sim.workload): not the 0.2 s of the request parser's imports
    from hal.controller.directives import JobRequest

CUT_SHORT = frozenset({"CANCELLED", "NODE_FAIL", "PREEMPTED", "REQUEUED", "BOOT_FAIL"})
# hal.controller.requeue records a finished job taken back by `hal requeue` as a REQUEUED attempt whose cause
# says how it had ended: that run ended by itself, and the live controller learned it then.
_ENDED_BEFORE = re.compile(r"after it ended ([A-Z_]+)$")


def learnable(state: str, cut: bool = False) -> bool:
    """Whether a run that ended in ``state`` (a job's final state) teaches the predictor how long jobs take.
    ``cut``: it ran under a limit below its --time (``below_asked``), so a TIMEOUT is the scheduler's."""
    return state not in CUT_SHORT and not (cut and state == "TIMEOUT")


def learnable_attempt(state: str, cause: str | None, cut: bool = False) -> bool:
    """The same for an earlier attempt of a requeued job, as ``job_attempts`` keeps it."""
    return learnable(ended_state(state, cause), cut)


def ended_state(state: str, cause: str | None) -> str:
    """How a run ended: its state, or for a finished job taken back by `hal requeue`, the state it had ended in."""
    ended = _ENDED_BEFORE.search(cause or "") if state == "REQUEUED" else None
    return ended.group(1) if ended else state


def below_asked(limit: float | None, request: JobRequest) -> bool:
    """Whether a run's ``limit`` is below the --time its job asked (a --time-min cut; the request may be the one
    a requeue restored, or one cut again since). A limit an administrator set is the job's own (update.py
    clears time_lowered), so it is never below."""
    asked = request.time_asked if request.time_lowered else request.time_limit
    return limit is not None and (asked is None or limit < asked)

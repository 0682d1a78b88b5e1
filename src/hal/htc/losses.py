"""Who pays for a lost service instance: the task it was running, the task whose input it was receiving, or its
session when it died receiving the session's common data or loading the application for it (a crash at import).

An instance writes to its beacon (beacon.py) which task runs, and RECEIVING while it waits for or reads the next
message. A message bigger than its memory limit kills it there, before any task of that message starts (QA: a
300 MB input restarted instances forever, charging nobody). The manager sent the messages, in order: the oldest
task it holds was in the first of them, so that one pays; common data pays at the session's level.
"""

from __future__ import annotations

from hal.htc import beacon, guard
from hal.htc.state import Instance, SessionState

BIND_LOSSES = 3  # instances lost in a row receiving a session's common data: it can never be received


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def lost_tasks(s: SessionState, inst: Instance, reason: str, running: int | None) -> list[tuple[int, bytes]]:
    """Charges the loss of ``inst`` (not preempted); returns its tasks that go back to ``s``'s queue, oldest first.
    ``running``: what its beacon said (None: no beacon, the oldest task is charged)."""
    tasks = list(inst.outstanding.items())
    at = 0 if running is None else next((i for i, t in enumerate(tasks) if t[0] == running), -1)
    if at >= 0 and tasks:
        if reason.startswith(guard.MEMORY_PREFIX):
            reason = f"{reason}, while running the task"
        return s.charge_attempt(tasks, at, reason)
    if inst.binding:  # died receiving the session or loading the application for it: the session pays
        s.bind_losses += 1
        if s.bind_losses < BIND_LOSSES:
            return tasks
        s.fault = _bind_fault(s, reason)
        s.requeue_front(tasks)
        s.fail_queued(s.fault)
        return []
    if not tasks or not reason.startswith(guard.MEMORY_PREFIX):  # killed or crashed between tasks: no task's
        return tasks  # fault, so none is charged (review: the oldest was, as before this module it was not)
    if running in (beacon.RECEIVING, beacon.NONE):
        size = _mib(len(tasks[0][1]))
        reason = guard.memory_reason(inst.mem_mb, f"its input ({size} pickled) did not fit as the instance received it")
    else:
        reason = f"{reason}, between tasks"
    return s.charge_attempt(tasks, 0, reason)


def _bind_fault(s: SessionState, reason: str) -> str:
    """Why the session's tasks can never run: its common data is too big for the memory limit, or the service
    dies as it loads (QA: a module that segfaults at import restarted instances forever, failing no task)."""
    if s.spec.common is not None and reason.startswith(guard.MEMORY_PREFIX):
        return (
            f"the session's common data ({_mib(len(s.spec.common))} pickled) did not fit in a service instance of "
            f"application {s.app.name!r}: {BIND_LOSSES} instances lost receiving it (last: {reason})"
        )
    return (
        f"service instances of application {s.app.name!r} die loading {s.app.target!r} for the session (importing "
        f"its module, building it or on_session_enter): {BIND_LOSSES} instances lost in a row (last: {reason})"
    )

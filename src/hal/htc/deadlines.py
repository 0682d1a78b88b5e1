"""Which running task is past its application's task timeout: its service instance is killed, and the task pays
the attempt (losses.py charges the task the beacon names) with a reason that names the timeout.

The manager looks at each instance's beacon every few tenths of a second (the server's reap interval): a task is
timed from the first look that saw it running, so it is stopped between ``task_timeout`` and one interval after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hal.htc import guard
from hal.htc.app import AppRegistry
from hal.htc.state import Instance

LOADING = -3  # what ``task_seen`` holds while an instance loads the service (no task id is negative)


def timeout_reason(limit: float) -> str:
    return f"{guard.TIMEOUT_PREFIX} ({limit:g} s): its service instance was killed"


def watch(instances: Iterable[Instance], registry: AppRegistry, now: float) -> list[Instance]:
    """Kills (SIGKILL, with its process group) each instance whose task has run past its application's timeout;
    returns them. The kill is seen as a lost instance, charged with ``inst.lost_reason`` set here."""
    killed = []
    for inst in instances:
        app = registry.apps.get(inst.pool)
        limit = app.task_timeout if app is not None else None
        if limit is None or inst.conn is None or inst.beacon is None or inst.lost_reason:
            inst.task_seen = None
            continue
        tid = inst.beacon.running()
        seen: tuple[Any, int] | None = (inst.sid, tid) if tid in inst.outstanding else None
        if inst.binding:  # loading the service for its session (import, build, on_session_enter) counts too (QA
            seen = (inst.sid, LOADING)  # HIGH: a hang there left its tasks RUNNING for ever, past every timeout)
        if seen != inst.task_seen:
            inst.task_seen, inst.task_since = seen, now
        elif seen is not None and now - inst.task_since >= limit:
            loading = " loading the application for the session" if seen[1] == LOADING else ""
            inst.lost_reason = timeout_reason(limit) + loading
            guard.kill(inst.proc)
            killed.append(inst)
    return killed

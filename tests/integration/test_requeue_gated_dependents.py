"""QA HIGH (cli2 #1): a job depending on an array task that `hal requeue` put back behind its array's %limit, and
that was then cancelled there, waited for ever (Reason=Dependency); so did an afterany on the whole array once
every task had ended that way. On a real controller, SQLite store and local processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.requeue import requeue
from hal.controller.store import Store, sqlite_url
from hal.controller.update import update
from hal.executors.local import LocalExecutor
from tests.integration.livekit import EXAMPLE

ME = Identity("alice", admin=False)


@pytest.fixture
def ctl(tmp_path: Path) -> Iterator[Controller]:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    controller = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"), grace=1.0)
    recover(controller)
    controller.start()
    try:
        yield controller
    finally:
        for jid in list(controller.live):
            controller.cancel(str(jid), ME, grace=0.0)
        controller.stop()


def _submit(ctl: Controller, tmp_path: Path, script: str, **options: str) -> list[int]:
    req = build_request(f"#!/bin/sh\n{script}\n", {"time": "5:00", **options}, {}, str(tmp_path), 0)
    return ctl.submit(req, "alice").job_ids


def _until(what: str, ok: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _state(ctl: Controller, jid: int) -> str:
    return str((ctl.store.get(jid) or {})["state"])


def test_afterok_on_a_task_cancelled_behind_its_limit_after_a_requeue_is_never_satisfied(
    ctl: Controller, tmp_path: Path
) -> None:
    tasks = _submit(ctl, tmp_path, "sleep 60", array="0-2%1")
    arr = tasks[0]
    dep = _submit(ctl, tmp_path, "true", dependency=f"afterok:{arr}_2")[0]
    doomed = _submit(ctl, tmp_path, "true", dependency=f"afterok:{arr}_2", **{"kill-on-invalid-dep": "yes"})[0]
    _until("task 0 runs", lambda: _state(ctl, tasks[0]) == "RUNNING")
    ctl.cancel(f"{arr}_2", ME)
    _until("afterok on a cancelled task", lambda: ctl.reason(dep) == "DependencyNeverSatisfied")
    _until("--kill-on-invalid-dep fires", lambda: _state(ctl, doomed) == "CANCELLED")
    doomed = _submit(ctl, tmp_path, "true", dependency=f"afterok:{arr}_2", **{"kill-on-invalid-dep": "yes"})[0]
    _until("the second one sees the cancel too", lambda: _state(ctl, doomed) == "CANCELLED")
    requeue(ctl, f"{arr}_2", ME)  # back behind the %limit (task 0 holds its one slot)
    assert ctl.reason(tasks[2]) == "JobArrayTaskLimit"
    # submitted after the requeue: before it, a cycle could cancel it at once for the task's first cancel
    doomed = _submit(ctl, tmp_path, "true", dependency=f"afterok:{arr}_2", **{"kill-on-invalid-dep": "yes"})[0]
    _until("the requeued task's dependents wait for it", lambda: ctl.reason(dep) == "Dependency")
    assert _state(ctl, doomed) == "PENDING"
    ctl.cancel(f"{arr}_2", ME)  # cancelled again, still behind the limit
    _until("afterok on the task cancelled again", lambda: ctl.reason(dep) == "DependencyNeverSatisfied", 10.0)
    _until("--kill-on-invalid-dep fires again", lambda: _state(ctl, doomed) == "CANCELLED", 10.0)


def test_afterany_on_an_array_whose_requeued_task_was_cancelled_behind_its_limit_runs(
    ctl: Controller, tmp_path: Path
) -> None:
    tasks = _submit(ctl, tmp_path, "sleep 60", array="0-3%4")
    arr = tasks[0]
    after = _submit(ctl, tmp_path, "true", dependency=f"afterany:{arr}")[0]
    _until("every task runs", lambda: all(_state(ctl, t) == "RUNNING" for t in tasks))
    ctl.cancel(f"{arr}_3", ME)
    _until("task 3 ends", lambda: _state(ctl, tasks[3]) == "CANCELLED")
    update(ctl, str(arr), ME, {"ArrayTaskThrottle": "1"})
    requeue(ctl, f"{arr}_3", ME)  # three tasks run: it waits behind the limit of 1
    assert ctl.reason(tasks[3]) == "JobArrayTaskLimit"
    ctl.cancel(str(arr), ME)
    _until("every task ends", lambda: all(_state(ctl, t) == "CANCELLED" for t in tasks))
    _until("afterany on the array is met once every task ended", lambda: _state(ctl, after) == "COMPLETED")


def test_a_requeued_running_task_waits_within_a_lowered_throttle(ctl: Controller, tmp_path: Path) -> None:
    """QA (cli2 #12): with four tasks running and ArrayTaskThrottle=1, a requeued task started again at once."""
    tasks = _submit(ctl, tmp_path, "sleep 60", array="0-3")
    arr = tasks[0]
    _until("every task runs", lambda: all(_state(ctl, t) == "RUNNING" for t in tasks))
    update(ctl, str(arr), ME, {"ArrayTaskThrottle": "1"})  # running tasks go on, as in Slurm
    requeue(ctl, f"{arr}_0", ME)
    _until("task 0 is back in the queue", lambda: _state(ctl, tasks[0]) == "PENDING")
    time.sleep(1.0)  # a few scheduling cycles
    assert _state(ctl, tasks[0]) == "PENDING" and ctl.reason(tasks[0]) == "JobArrayTaskLimit"
    ctl.cancel(f"{arr}_[1-3]", ME, grace=0.0)  # the running ones end: it may start
    _until("task 0 starts again under the limit", lambda: _state(ctl, tasks[0]) == "RUNNING")

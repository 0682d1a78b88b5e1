"""Who pays for a lost instance (htc/losses.py): a memory kill while it received a task's input charges that
task; a kill or crash between tasks (not memory) charges no task, as before the module (review: the oldest task
it held paid an attempt, and failed at once with max_retries=0)."""

from __future__ import annotations

from hal.htc import beacon, guard
from hal.htc.app import Application
from hal.htc.losses import lost_tasks
from hal.htc.state import Instance, SessionSpec, SessionState


def _state() -> tuple[SessionState, Instance]:
    s = SessionState(1, SessionSpec("a"), Application("a", "hal.htc.examples:noop", max_retries=0), 0.0)
    inst = Instance(iid=1, slot=0, pool="a", proc=None, started=0.0, sid=1, mem_mb=100)
    inst.outstanding = {10: b"x" * 8, 11: b"y"}
    return s, inst


def test_a_kill_between_tasks_charges_no_task() -> None:
    s, inst = _state()
    back = lost_tasks(s, inst, "killed by signal 9 (SIGKILL)", beacon.RECEIVING)
    assert [t for t, _ in back] == [10, 11] and s.counters.failed == 0 and s.counters.retried == 0


def test_a_memory_kill_while_receiving_charges_the_task_being_received() -> None:
    s, inst = _state()
    back = lost_tasks(s, inst, f"{guard.MEMORY_PREFIX} (100 MiB)", beacon.RECEIVING)
    assert [t for t, _ in back] == [11] and s.counters.failed == 1  # max_retries=0: task 10 fails

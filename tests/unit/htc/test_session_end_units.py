"""QA findings, in the manager's own pieces: an instance dying as it loads the application for a session (a crash
at import) makes the session fail its tasks after a few, and a re-attached session's next task id outlives a
restart of the manager, even once every task it knew has finished."""

from __future__ import annotations

from pathlib import Path

from hal.htc import beacon, wire
from hal.htc.app import Application, AppRegistry
from hal.htc.journal import Journal
from hal.htc.losses import BIND_LOSSES, lost_tasks
from hal.htc.state import Instance, SessionSpec, SessionState


def test_instances_dying_as_they_load_the_application_fail_the_session_after_a_few() -> None:
    app = Application("c", "crash_at_import:fn", max_retries=5)
    s = SessionState(1, SessionSpec("c"), app, 0.0)
    s.add([(0, 0, b"a"), (1, 0, b"b")])
    why = "process 42 killed by SIGSEGV"
    for n in range(1, BIND_LOSSES + 1):
        inst = Instance(iid=n, slot=0, pool="c", proc=None, started=0.0, sid=1, binding=True)
        inst.outstanding = dict(s.take(2))
        s.inflight = 0
        back = lost_tasks(s, inst, why, beacon.RECEIVING)
        s.requeue_front(back)
        assert (s.fault is None) == (n < BIND_LOSSES)
    assert s.fault is not None and "die loading 'crash_at_import:fn'" in s.fault and why in s.fault
    assert s.queued == 0 and s.counters.failed == 2 and [r[1] for r in s.history or s.outbox] == [wire.S_LOST] * 2


def test_the_next_task_id_survives_a_restart_after_every_task_finished(tmp_path: Path) -> None:
    reg = AppRegistry()
    reg.register(Application("a", "hal.htc.examples:noop"))
    j = Journal(tmp_path / "j.db")
    spec = SessionSpec("a", recoverable=True)
    s = SessionState(3, spec, reg.get("a"), 0.0)
    j.opened(3, spec, 0.0)
    items = [(tid, 0, b"x") for tid in range(4)]
    s.add(items)
    j.added(3, items)
    for tid, _ in s.take(4):
        s.finished(tid, wire.S_OK, b"y", 0.0)
    j.write({3: s}, next_sid=3)
    j.close()
    (restored,), _ = Journal(tmp_path / "j.db").restore(reg)
    assert restored.queued == 0 and restored.counters.submitted == 4
    assert restored.next_tid == 4 == s.next_tid

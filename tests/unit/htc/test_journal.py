"""The journal of recoverable sessions: batched writes, and what a restarted manager gets back."""

from __future__ import annotations

from pathlib import Path

from hal.htc import wire
from hal.htc.app import Application, AppRegistry
from hal.htc.journal import Journal
from hal.htc.state import SessionSpec, SessionState


def _registry() -> AppRegistry:
    reg = AppRegistry()
    reg.register(Application("a", "hal.htc.examples:noop"))
    return reg


def test_unfinished_tasks_and_results_come_back_after_a_restart(tmp_path: Path) -> None:
    reg = _registry()
    j = Journal(tmp_path / "j.db")
    spec = SessionSpec("a", name="eod", user="ann", recoverable=True, common=b"common")
    s = SessionState(7, spec, reg.get("a"), 1.0)
    j.opened(7, spec, 1.0)
    items = [(tid, 5 if tid == 3 else 0, f"in{tid}".encode()) for tid in range(5)]
    s.add(items)
    j.added(7, items)
    assert j.pending({7: s})
    j.write({7: s}, next_sid=9)
    s.take(2)
    s.finished(3, wire.S_OK, b"out3", 0.01)  # the priority task ran first
    s.finished(0, wire.S_ERR, b"err0", 0.01)
    j.write({7: s}, next_sid=9)
    assert j.writes == 2 and not j.pending({7: s})
    j.close()

    again = Journal(tmp_path / "j.db")
    restored, next_sid = again.restore(reg)
    assert next_sid == 9 and len(restored) == 1
    r = restored[0]
    assert (r.sid, r.spec, r.state) == (7, spec, "detached")
    assert [t for t, _ in r.take(10)] == [1, 2, 4]  # tasks 3 and 0 finished; the others wait, in order
    assert sorted(r.history or []) == [(0, wire.S_ERR, b"err0"), (3, wire.S_OK, b"out3")]
    assert (r.counters.submitted, r.counters.done, r.counters.failed) == (5, 1, 1)


def test_a_closed_session_leaves_nothing_and_an_unknown_application_is_dropped(tmp_path: Path) -> None:
    reg = _registry()
    j = Journal(tmp_path / "j.db")
    for sid, app in ((1, "a"), (2, "gone")):
        spec = SessionSpec(app, recoverable=True)
        j.opened(sid, spec, 0.0)
        j.added(sid, [(0, 0, b"x")])
    j.write({}, next_sid=2)
    j.closed(1)
    j.write({}, next_sid=2)
    restored, _ = j.restore(reg)
    assert restored == []
    j.write({}, next_sid=2)  # the session of the unknown application is removed too
    assert [r.sid for r in j.load()[0]] == []

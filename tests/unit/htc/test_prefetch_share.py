"""QA: after instant tasks the prefetch depth was 256 and the next eight long tasks all went to one instance."""

from __future__ import annotations

from hal.htc import wire
from hal.htc.app import Application
from hal.htc.state import SessionSpec, SessionState


def test_an_instance_holds_at_most_its_fair_share_after_fast_tasks() -> None:
    app = Application("a", "hal.htc.examples:noop", max_instances=4)
    s = SessionState(1, SessionSpec("a", max_slots=4), app, 0.0)
    for i in range(400):
        s.finished(i, wire.S_OK, b"", 1e-6)
    assert s.depth() == 256
    s.add([(i, 0, b"") for i in range(400, 408)])
    s.instances = {1}  # one instance up, three to come: it takes two of the eight
    assert s.room(0) == 2
    s.add([(i, 0, b"") for i in range(408, 20408)])
    assert s.room(0) == 256  # a deep queue keeps the deep prefetch

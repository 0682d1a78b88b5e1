"""A session's queue inside the manager: priority first, FIFO within a priority, returned tasks first, cancels."""

from __future__ import annotations

from hal.htc import wire
from hal.htc.app import Application
from hal.htc.state import SessionSpec, SessionState


def _session(recoverable: bool = False) -> SessionState:
    app = Application("a", "hal.htc.examples:noop", max_instances=4)
    return SessionState(1, SessionSpec("a", recoverable=recoverable, max_slots=3), app, 0.0)


def test_priority_then_submission_order() -> None:
    s = _session()
    s.add([(0, 0, b"a"), (1, 0, b"b"), (2, 5, b"c"), (3, 0, b"d"), (4, 5, b"e")])
    assert [t for t, _ in s.take(10)] == [2, 4, 0, 1, 3]
    assert s.queued == 0 and s.counters.submitted == 5


def test_returned_tasks_go_first_in_their_order() -> None:
    s = _session()
    s.add([(i, 0, b"") for i in range(6)])
    taken = s.take(3)
    s.requeue_front(taken[1:])
    assert [t for t, _ in s.take(10)] == [1, 2, 3, 4, 5]


def test_cancel_some_and_all() -> None:
    s = _session(recoverable=True)
    s.add([(i, 0, b"") for i in range(5)])
    assert s.cancel([1, 3, 99]) == [1, 3]
    assert [t for t, _ in s.take(10)] == [0, 2, 4]
    s.add([(5, 0, b""), (6, 0, b"")])
    assert sorted(s.cancel(None)) == [5, 6] and s.queued == 0
    assert [r[1] for r in s.outbox] == [wire.S_CANCELLED] * 4 and s.history == s.outbox


def test_demand_is_capped_and_depth_follows_task_time() -> None:
    s = _session()
    s.add([(i, 0, b"") for i in range(100)])
    assert s.demand() == 3
    assert s.depth() == 2  # unknown task time: start small
    s.finished(0, wire.S_OK, b"", 0.001)
    assert s.depth() == 20  # about 20 ms of work per instance
    for i in range(1, 200):
        s.finished(i, wire.S_OK, b"", 1e-6)
    assert s.depth() > 200  # tiny tasks: big batches (at most 256)


def test_running_counts_executing_tasks_and_the_prefetched_rest_apart() -> None:
    """QA: `hal sessions` said SLOTS 4 and RUNNING 8: each instance holds a task ahead, counted as running."""
    s = _session()
    s.add([(i, 0, b"") for i in range(10)])
    s.take(8)
    s.inflight, s.instances = 8, {1, 2, 3, 4}  # four instances, two tasks handed to each
    row = s.summary(1.0)
    assert (row["slots"], row["running"], row["prefetched"], row["queued"]) == (4, 4, 4, 2)
    row = s.summary(1.0, running=3)  # the manager knows one instance is between tasks
    assert (row["running"], row["prefetched"]) == (3, 5)

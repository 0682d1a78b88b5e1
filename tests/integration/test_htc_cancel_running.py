"""QA: TaskFuture.cancel() said True for a task already running, which then finished and was counted done.
As concurrent.futures: False for a running task (it keeps its result), True only for one still queued."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import CancelledError

import pytest

from hal.htc.local import LocalManager


def test_cancel_is_refused_for_a_running_task_and_granted_for_a_queued_one() -> None:
    with LocalManager(cpus=1) as client:
        client.register_app("pids", "hal.htc.examples:pid_of", max_instances=1)
        with client.session("pids", slots=1) as s:
            assert isinstance(s.submit(0.0).result(timeout=30), int)  # the instance is up
            running = s.submit(1.0)
            time.sleep(0.3)
            prefetched, queued = s.submit(0.0), s.submit(0.0)  # one waits on the instance, one in the queue
            time.sleep(0.2)
            assert running.cancel() is False and not running.cancelled()
            assert queued.cancel() is True and queued.cancelled()
            assert isinstance(running.result(timeout=30), int)
            assert isinstance(prefetched.result(timeout=30), int)
            with pytest.raises(CancelledError):
                queued.result(timeout=5)
        row = [r for r in client.sessions() if r["app"] == "pids"][-1]
    assert (row["done"], row["cancelled"]) == (3, 1)


def test_cancel_from_a_done_callback_does_not_wait_for_its_own_reply() -> None:
    """A done-callback runs on the session's reader thread, which also reads cancel()'s reply: asking there
    waited 30 s for it. The queued task is still cancelled, on the manager's word."""
    with LocalManager(cpus=1) as client:
        client.register_app("pids", "hal.htc.examples:pid_of", max_instances=1)
        with client.session("pids", slots=1) as s:
            # the instance is up, and its tasks' average (0.5 s) keeps the prefetch depth at 2, so most of
            # `later` stays queued at the manager however slowly this thread runs (instant tasks were all
            # handed to the instance before the callback's cancels arrived on a busy CI machine)
            assert isinstance(s.submit(0.5).result(timeout=30), int)
            first = s.submit(0.5)
            time.sleep(0.2)
            later = [s.submit(0.5) for _ in range(6)]
            said: list[float] = []

            def cancel_the_rest(_: object) -> None:
                t0 = time.monotonic()
                for f in later:
                    f.cancel()
                said.append(time.monotonic() - t0)

            first.add_done_callback(cancel_the_rest)
            first.result(timeout=30)
            for f in later:
                with contextlib.suppress(CancelledError):
                    f.result(timeout=30)
            assert said and said[0] < 5.0, said
            assert any(f.cancelled() for f in later)


def test_a_late_reply_left_by_an_earlier_request_is_not_taken_for_the_next() -> None:
    """Replies come back unnamed, in order: one left behind (its request timed out, or an error answered a
    fire-and-forget cancel) was read as the next request's answer (review)."""
    with LocalManager(cpus=1) as client:
        client.register_app("pids", "hal.htc.examples:pid_of", max_instances=1)
        with client.session("pids", slots=1) as s:
            assert isinstance(s.submit(0.0).result(timeout=30), int)  # the instance is up
            queued = [s.submit(1.0), s.submit(0.0), s.submit(0.0)]
            time.sleep(0.2)
            s._replies.put(("REPLY", []))  # a stale answer saying nothing was cancelled
            assert queued[-1].cancel() is True and queued[-1].cancelled()
            assert isinstance(queued[0].result(timeout=30), int)

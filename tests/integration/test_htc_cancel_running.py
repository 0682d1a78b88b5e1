"""QA: TaskFuture.cancel() said True for a task already running, which then finished and was counted done.
As concurrent.futures: False for a running task (it keeps its result), True only for one still queued."""

from __future__ import annotations

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

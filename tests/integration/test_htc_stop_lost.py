"""A plain session's tasks still queued or running when its manager stops end TaskLost saying so, not with a bare
CancelledError that reads as the user's own cancel() (QA: SIGTERM of hal server gave 19 of 20 futures that)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.htc.local import LocalManager
from hal.htc.results import TaskLost


def test_a_stopping_manager_fails_the_tasks_it_leaves_with_the_reason(tmp_path: Path) -> None:
    manager = LocalManager(cpus=1, state_dir=str(tmp_path))
    client = manager.start()
    try:
        client.register_app("nap", "hal.htc.examples:sleep_ms", max_instances=1)
        s = client.session("nap", slots=1)
        futures = [s.submit(3000) for _ in range(3)]  # one runs, two wait
        deadline = time.monotonic() + 30
        while not [r for r in client.sessions() if r["session"] == s.id and r["running"]]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        manager.stop()
        for f in futures:
            with pytest.raises(TaskLost, match=r"the session manager stopped \(its server shut down\)"):
                f.result(timeout=30)
    finally:
        manager.stop()

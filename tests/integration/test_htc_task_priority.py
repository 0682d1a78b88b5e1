"""A task's priority is checked as a session's is (QA: "abc" or None broke the session's queue with a TypeError,
after which every submit and even detach failed); a session name with control characters is refused (QA: hal
sessions printed them to an administrator's terminal); an ended session holds no slots (QA: SLOTS 2 when closed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.htc import wire
from hal.htc.local import LocalManager
from hal.htc.results import SessionBroken


def test_task_priorities_and_session_names_are_checked(tmp_path: Path) -> None:
    manager = LocalManager(cpus=1, state_dir=str(tmp_path))
    client = manager.start()
    try:
        client.register_app("sq", "hal.htc.examples:square", max_instances=1)
        with pytest.raises(RuntimeError, match="session name has no control characters"):
            client.session("sq", name="a\n\x1b[31mRED")
        with client.session("sq", slots=1) as s:
            for bad in ("abc", None, 1.5, -5, 10**20):
                with pytest.raises(ValueError, match=r"a task's priority must be a whole number from 0 to 10,000"):
                    s.submit(1, priority=bad)  # type: ignore[arg-type]
            assert s.submit(3, priority=10_000).result(timeout=60) == 9  # the session goes on
            sid = s.id
        (row,) = [r for r in client.sessions() if r["session"] == sid]
        assert row["state"] == "closed" and (row["slots"], row["target"]) == (0, 0)
        rogue = client.session("sq", slots=1)  # a client that skips the check: refused with the reason
        rogue._send((wire.TASKS, rogue.id, [(10_000, "abc", wire.dumps(2))]))
        with pytest.raises(SessionBroken, match=r"a task's priority must be a whole number from 0 to 10,000"):
            rogue.submit(4).result(timeout=60)
        with client.session("sq", slots=1) as s:  # nothing queued was harmed
            assert s.submit(5).result(timeout=60) == 25
    finally:
        manager.stop()

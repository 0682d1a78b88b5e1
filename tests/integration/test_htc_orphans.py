"""After a kill -9 of `hal server`, its HTC service instances and the processes their tasks started die with it
(QA: they ran their tasks on for minutes, untracked, on cores the restarted server gave to new batch work)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.integration.livekit import LiveServer, register_app


def _children(pid: int) -> set[int]:
    """Every process whose parent is ``pid``, then theirs (from /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == parent and int(entry) not in found:
                found.add(int(entry))
                todo.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_instances_and_their_tasks_die_with_a_killed_server(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        register_app(server, "nap", "cmd:sleep {input}", max_instances=2)
        with server.client() as sdk:
            session = sdk.session("nap", slots=2)
            for _ in range(2):
                session.submit("120")
            assert server.proc is not None
            deadline = time.monotonic() + 30
            procs: set[int] = set()
            while time.monotonic() < deadline:  # two instances, each with its task's sleep
                procs = _children(server.proc.pid)
                sleeps = [p for p in procs if Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep\x00120")]
                if len(sleeps) == 2:
                    break
                time.sleep(0.1)
            assert len(sleeps) == 2, [Path(f"/proc/{p}/cmdline").read_bytes() for p in procs]
            server.kill()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(_alive(p) for p in procs):
                time.sleep(0.1)
            assert not [p for p in procs if _alive(p)]
    finally:
        server.stop()

"""What tasks print goes to a log per service instance beside the manager's socket, not into the server's own log
(QA: 100 MB of a task's output landed there, unattributed); a `cmd:` application's output that is not UTF-8 comes
back with its bytes kept (QA: head -c N /dev/urandom failed the task)."""

from __future__ import annotations

from pathlib import Path

from hal.htc.local import LocalManager


def test_prints_go_to_the_instances_log_and_binary_command_output_comes_back(tmp_path: Path) -> None:
    manager = LocalManager(cpus=1, state_dir=str(tmp_path))
    client = manager.start()
    try:
        client.register_app("say", "builtins:print", max_instances=1)
        with client.session("say", slots=1) as s:
            assert s.submit("hello-from-a-task").result(timeout=60) is None
        logs = list((tmp_path / "htc-logs").glob("say-*.log"))
        assert len(logs) == 1 and "hello-from-a-task" in logs[0].read_text()
        client.register_app("rnd", "cmd:head -c 64 /dev/urandom", max_instances=1)
        with client.session("rnd", slots=1) as s:
            got = s.submit("x").result(timeout=60)
        assert len(got.encode("utf-8", "surrogateescape")) == 64
    finally:
        manager.stop()

"""A service instance whose session manager is killed says so in one line and exits: each printed a
BrokenPipeError traceback when it next sent its results (QA, kill -9 of a server running a session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hal.htc import wire


def _instance(address: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "hal.htc.worker", "--address", address, "--instance", "3"]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)


def test_results_sent_to_a_gone_manager_end_the_instance_without_a_traceback(tmp_path: Path) -> None:
    address = str(tmp_path / "m.sock")
    server = wire.listen(address)
    server.setblocking(True)
    proc = _instance(address)
    sock, _ = server.accept()
    ch = wire.Channel(sock)
    assert ch.recv()[0] == wire.HELLO
    ch.send((wire.RUN, [(i, wire.dumps(i)) for i in range(4)]))  # no session bound: each fails at once
    sock.close()  # the manager dies with the tasks handed out: the results have nowhere to go
    server.close()
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert "hal service instance 3: its session manager went away" in err
    assert proc.returncode == 1


def test_an_instance_started_after_its_manager_died_exits_quietly(tmp_path: Path) -> None:
    proc = _instance(str(tmp_path / "gone.sock"))
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err and "session manager went away" in err


def _hello(address: str) -> tuple[subprocess.Popen[str], wire.Channel]:
    server = wire.listen(address)
    server.setblocking(True)
    proc = _instance(address)
    sock, _ = server.accept()
    server.close()
    ch = wire.Channel(sock)
    assert ch.recv()[0] == wire.HELLO
    return proc, ch


def test_a_manager_that_closes_without_stop_is_reported_gone(tmp_path: Path) -> None:
    """An instance idle between batches reads end-of-file when its manager dies: it ended quietly with 0, so
    whether a killed manager was reported depended on whether its results had already been sent."""
    proc, ch = _hello(str(tmp_path / "m.sock"))
    ch.close()
    _, err = proc.communicate(timeout=30)
    assert "hal service instance 3: its session manager went away" in err
    assert proc.returncode == 1


def test_stop_ends_the_instance_quietly(tmp_path: Path) -> None:
    proc, ch = _hello(str(tmp_path / "m.sock"))
    ch.send((wire.STOP,))
    _, err = proc.communicate(timeout=30)
    ch.close()
    assert err == "" and proc.returncode == 0

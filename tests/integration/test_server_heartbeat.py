"""The server's heartbeat wiring (controller/alive.py): a start reads when the previous controller last beat, before
its records are recovered (a stage-in cut by a kill -9 is charged up to then, not through the downtime), and a
running server touches HOME/alive every few seconds. The Heartbeat class alone was tested; nothing checked that
the server used it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.controller.alive import ALIVE_FILE, BEAT_S
from tests.integration.livekit import EXAMPLE, HAL, _die_with_parent


def test_a_start_reads_when_the_previous_controller_last_beat(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ALIVE_FILE).touch()
    last = time.time() - 3600.0  # the previous server's last beat, an hour ago
    os.utime(home / ALIVE_FILE, (last, last))
    ctl, _app, store, executor = build(ServerOptions(home=home, executor="dev", cluster=EXAMPLE))
    try:
        assert ctl.down_since == last
    finally:
        executor.shutdown()
        store.close()


def test_a_first_start_has_no_last_beat(tmp_path: Path) -> None:
    ctl, _app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", cluster=EXAMPLE))
    try:
        assert ctl.down_since is None
    finally:
        executor.shutdown()
        store.close()


def _until(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_running_server_beats(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "server.log"
    alive, info = home / ALIVE_FILE, home / "server.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAL_")}
    args = [*HAL, "server", "--home", str(home), "--port", "0", "--cluster", str(EXAMPLE), "--grace", "1"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=out, preexec_fn=_die_with_parent)
    try:
        assert _until(lambda: info.exists() or proc.poll() is not None, 90.0), log.read_text()
        assert proc.poll() is None, log.read_text()
        assert json.loads(info.read_text())["pid"] == proc.pid  # written just before the heartbeat starts
        assert _until(alive.exists, 2 * BEAT_S), "the running server made no HOME/alive"
        first = alive.stat().st_mtime
        assert _until(lambda: alive.stat().st_mtime > first, 2 * BEAT_S), "HOME/alive was not touched again"
        beat = alive.stat().st_mtime
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
        assert alive.stat().st_mtime >= beat  # a clean stop beats once more
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

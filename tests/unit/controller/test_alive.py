"""The controller's heartbeat file: touched while it runs, once more at a clean stop, read back by the next start."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hal.controller.alive import Heartbeat


def test_the_mark_advances_while_running_and_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "alive"
    assert Heartbeat(path).last() is None  # a first start
    beat = Heartbeat(path, every=0.05)
    beat.start()
    try:
        os.utime(path, (1.0, 1.0))  # aged by hand: the next beat brings it back to now
        deadline = time.monotonic() + 10
        while (Heartbeat(path).last() or 0) < time.time() - 5:
            assert time.monotonic() < deadline, "no beat"
            time.sleep(0.02)
    finally:
        beat.stop()
    assert abs((Heartbeat(path).last() or 0) - time.time()) < 5

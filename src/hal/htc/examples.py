"""Small applications to try HTC sessions with; the tests and benchmarks/htc.py register these."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from hal.htc.context import common_data


def noop(x: Any) -> Any:
    return x


def square(x: int) -> int:
    return x * x


def sleep_ms(ms: float) -> float:
    time.sleep(ms / 1000.0)
    return ms


def fail_on(x: int) -> int:
    if x % 7 == 3:
        raise ValueError(f"bad input {x}")
    return x


def pid_of(x: Any) -> int:
    """Sleeps a little so a test can kill the process while it runs."""
    time.sleep(float(x))
    return os.getpid()


def die(x: Any) -> None:
    os.kill(os.getpid(), 9)


def die_if_negative(x: int) -> int:
    """A fast task that kills its instance on a bad input, among fast tasks that do not."""
    if x < 0:
        os.kill(os.getpid(), 9)
    return x


def add_common(x: int) -> int:
    return x + int(common_data()["offset"])


class Scaler:
    """A class target: built once per service instance, told the session's common data once."""

    def __init__(self) -> None:
        self.factor = 1

    def on_session_enter(self, common: Any) -> None:
        self.factor = int(common)

    def __call__(self, x: int) -> int:
        return x * self.factor


def cores(x: Any) -> list[int]:
    """The host cores this service instance may run on (its slot's, once pinned)."""
    time.sleep(float(x))
    return sorted(os.sched_getaffinity(0))


def devices(x: Any) -> tuple[list[int], str | None]:
    """The cores and GPUs (CUDA_VISIBLE_DEVICES) this service instance was given."""
    time.sleep(float(x))
    return sorted(os.sched_getaffinity(0)), os.environ.get("CUDA_VISIBLE_DEVICES")


def hog(mb: int) -> int:
    """Fills ``mb`` MiB; beyond the application's memory limit the instance is stopped and the task retried."""
    block = bytearray(mb << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return len(block) >> 20


def hog_children(x: tuple[int, float]) -> int:
    """Two child processes holding ``mb`` MiB each for ``hold`` seconds: memory the instance's own RLIMIT_DATA
    does not see, its watchdog does."""
    mb, hold = x
    code = f"b = bytearray({mb} << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\nimport time; time.sleep({hold})"
    children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    try:
        return sum(c.wait() for c in children)
    finally:
        for c in children:
            c.kill()

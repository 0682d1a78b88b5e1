"""Small applications to try HTC sessions with; the tests and benchmarks/htc.py register these."""

from __future__ import annotations

import os
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

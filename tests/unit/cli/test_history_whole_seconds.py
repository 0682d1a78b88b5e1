"""sacct's Elapsed, ElapsedRaw and CPUTime agree with the Start and End it prints (whole seconds)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.live import stamp
from hal.cli.main import build

START, END = 1_700_000_003.6, 1_700_000_007.2  # printed ...:23 and ...:27: 4 s apart, though 3.6 s ran
RECORD = {"id": "7", "job_id": 7, "state": "COMPLETED", "alloc_cpus": 2, "start_time": START, "end_time": END,
          "elapsed": END - START}  # fmt: skip


def test_elapsed_is_the_printed_end_less_the_printed_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: Start 13:23:23, End 13:23:27 printed Elapsed 00:00:03 and ElapsedRaw 3 (the float's difference)."""

    class Fake:
        def get(self, ref: str, duplicates: bool = False) -> dict[str, Any]:
            return dict(RECORD)

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.history.client", client)
    cols = "Start,End,Elapsed,ElapsedRaw,CPUTime,CPUTimeRAW"
    got = CliRunner().invoke(build(["history"]), ["history", "-P", "-n", "-j", "7", "-o", cols])
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines() == [f"{stamp(START)}|{stamp(END)}|00:00:04|4|00:00:08|8"]


def test_a_running_job_counts_to_the_servers_now_floored() -> None:
    from hal.cli.live import whole_elapsed

    now = time.time()
    start = int(now) - 10 + 0.9  # started 9.1 s before a whole second; the server's now is 0.x past one
    job = {"start_time": start, "end_time": None, "elapsed": (int(now) + 0.1) - start}
    assert whole_elapsed(job) == 10
    assert whole_elapsed({"start_time": start, "end_time": None, "elapsed": 0.0}) == 0  # staging: no clock yet
    assert whole_elapsed({"start_time": None, "elapsed": 0.0}) == 0

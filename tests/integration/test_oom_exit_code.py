"""An OUT_OF_MEMORY job's ExitCode is Slurm's 0:125, whatever ended its script (it was 1:0 for a MemoryError,
0:9 for a kill)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.executors.api import ExecEvent, ExecEventKind, LaunchSpec, NodeShare
from hal.executors.local import LocalExecutor
from hal.model.job import JobState

PY = sys.executable
HOG = "import time; b = b'x' * (90 * 2**20); time.sleep(30)"


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


def ended(ex: LocalExecutor, job_id: int, timeout: float = 20.0) -> ExecEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for e in ex.events():
            if e.job_id == job_id and e.kind is ExecEventKind.ENDED:
                return e
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


@pytest.mark.parametrize(
    "script",
    [
        f"#!{PY}\nblob = b'x' * (400 * 2**20)\n",  # one process over its limit: a MemoryError, exit 1
        f'#!/bin/bash\nfor i in 1 2; do {PY} -c "{HOG}" & done\nwait\n',
    ],  # two under the per-process limit, over the job's: the watchdog (or the cgroup) kills the tree
    ids=["one-process", "whole-tree"],
)
def test_out_of_memory_is_exit_code_0_125(ex: LocalExecutor, tmp_path: Path, script: str) -> None:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    spec = LaunchSpec(job_id=5, name="hog", user="alice", script=script, workdir=tmp_path, stdout="", stderr="",
                      shares=(NodeShare("local0", (cpu,), 150),))  # fmt: skip
    ex.launch(spec)
    end = ended(ex, 5)
    assert end.state is JobState.OUT_OF_MEMORY, end
    assert (end.exit_code, end.signal) == (0, 125)

"""QA: --window counts jobs in job-id order (README: the archive numbers jobs in submit order), so on a trace whose
ids run against submit order --window 0:20 ran the last 20 submitted, without a word. The window still counts ids
as documented; `hal trace check` notes ids out of submit order, and `hal simulate --window` says it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hal.sim.swf import read_swf
from hal.sim.trace_notes import id_order

RECORD = "{id} {submit} -1 100 2 -1 -1 2 200 -1 1 1 1 -1 -1 -1 -1 -1\n"


def trace(tmp_path: Path, ids: list[int]) -> Path:
    path = tmp_path / "t.swf"
    path.write_text("; MaxProcs: 8\n" + "".join(RECORD.format(id=i, submit=10 * n) for n, i in enumerate(ids)))
    return path


def hal(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env)


def test_ids_in_submit_order_say_nothing(tmp_path: Path) -> None:
    assert id_order(read_swf(trace(tmp_path, [1, 2, 3, 4])).records) is None


def test_reversed_ids_are_counted_with_the_first(tmp_path: Path) -> None:
    said = id_order(read_swf(trace(tmp_path, [40, 30, 20, 10])).records)
    assert said == (
        "job ids are not in submit order: 3 job(s) are submitted before a lower-numbered job; the first: job 20 "
        "(line 4) is submitted at 20, before job 10's 30"
    )


@pytest.mark.parametrize("command", ["trace-check", "simulate", "tune"])
def test_the_commands_say_it(tmp_path: Path, command: str) -> None:
    """Every replay tool, hal tune too, whose slices count ids (QA: only trace check and a --window said it)."""
    path = trace(tmp_path, [40, 30, 20, 10])
    args = {
        "trace-check": ["trace", "check", path],
        "simulate": ["simulate", path, "--window", "0:2"],
        "tune": ["tune", path, "--train", "0:2", "--budget", "4"],
    }[command]
    done = hal(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert "job ids are not in submit order: 3 job(s)" in said, said
    if command == "tune":  # its slices count ids as a --window does (QA: it said nothing)
        assert "--train 0:2 counts jobs in job-id order" in said and "--test 2:2 counts jobs" in said, said
    if command == "simulate":  # the window is still the first two ids: the last two jobs submitted
        assert "--window 0:2 counts jobs in job-id order" in done.stderr
        assert "│    2 │" in done.stdout


def test_a_window_on_ordered_ids_says_nothing(tmp_path: Path) -> None:
    done = hal("simulate", trace(tmp_path, [1, 2, 3, 4]), "--window", "0:2", cwd=tmp_path)
    assert done.returncode == 0 and "submit order" not in done.stderr

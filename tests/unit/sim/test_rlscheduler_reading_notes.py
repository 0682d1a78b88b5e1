"""QA: `hal simulate --setup rlscheduler` dropped unreadable lines without a word and kept a repeated job id that
plain `hal simulate` skips, with no note. The trace's problems are listed as plain simulate lists them, and where
RLScheduler's reading differs from the normal replay is said; RLScheduler's rules themselves are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hal.sim.generate import WorkloadShape, generate
from hal.sim.rlscheduler import load_jobs
from hal.sim.swf import write_swf


def rl_trace(tmp_path: Path) -> Path:
    """2,200 generated jobs (RLScheduler's windows need over 2,049), then a bad line, a repeated id, a -1 run."""
    path = tmp_path / "rl.swf"
    records = generate(WorkloadShape(jobs=2200, procs=64, load=0.7, users=10, seed=3))
    write_swf(path, records, {"MaxNodes": "64", "MaxProcs": "64"})
    with path.open("a", encoding="utf-8") as fh:
        fh.write("this is not a job\n")
        fh.write("5 100 0 50 2 -1 -1 2 60 -1 1 1 1 -1 -1 -1 -1 -1\n")
        fh.write("2300 100 0 -1 2 -1 -1 2 60 -1 1 1 1 -1 -1 -1 -1 -1\n")
    return path


def test_the_loader_keeps_its_rules_and_says_where_they_differ(tmp_path: Path) -> None:
    loaded = load_jobs(rl_trace(tmp_path))
    assert [j.job_id for j in loaded.jobs].count(5) == 2  # RLScheduler runs both records of job 5
    assert [j.run for j in loaded.jobs if j.job_id == 2300] == [10]  # and a -1 run for 10 s
    assert [str(p) for p in loaded.problems] == ["line 2203: truncated: 5 fields, SWF needs 18"]
    said = " | ".join(loaded.notes)
    assert "1 record(s) repeat an earlier job id (the first: line 2204, job 5)" in said
    assert "hal simulate replays only the first" in said
    assert "1 job(s) have no run time (-1): RLScheduler runs each for 10 s; hal simulate skips them" in said


def test_the_setup_lists_the_problems_and_notes_once_reading_a_pipe_once(tmp_path: Path) -> None:
    trace = rl_trace(tmp_path)
    cmd = [sys.executable, "-m", "hal", "simulate", "/dev/stdin", "--setup", "rlscheduler"]
    env = {**os.environ, "COLUMNS": "250"}
    done = subprocess.run(cmd, input=trace.read_text(), capture_output=True, text=True, timeout=120, check=False,
                          env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 job(s) skipped; first ones:" in done.stderr
    assert "line 2203: truncated: 5 fields, SWF needs 18" in done.stderr
    assert done.stderr.count("repeat an earlier job id") == 1
    assert "mean" in done.stdout  # the windows ran on the whole trace: stdin was read once

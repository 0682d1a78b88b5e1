"""`hal simulate` on broken input: a clear message and a count of skipped jobs, never a traceback.

Exit code 0 when some jobs ran (the rest of the trace is simulated), 2 when nothing could run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HEADER = "; MaxProcs: 16\n"


def line(jid: int, submit: object = None, run: object = 100, procs: object = 4, req: object = 200) -> str:
    fields = [jid, jid * 10 if submit is None else submit, -1, run, procs, -1, -1, procs, req, -1, 1, 1, 1, -1, 1]
    return " ".join(str(f) for f in [*fields, -1, -1, -1])


GOOD = [line(j) for j in range(1, 6)]


def hal(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", "simulate", *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def simulate_text(
    tmp_path: Path, text: str | bytes, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    trace = tmp_path / "trace.swf"
    if isinstance(text, bytes):
        trace.write_bytes(text)
    else:
        trace.write_text(text)
    summary = tmp_path / "summary.json"
    done = hal(trace, "--summary-out", summary, *extra, cwd=tmp_path)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    data = json.loads(summary.read_text()) if summary.exists() else {}
    return done, data


def stderr_of(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join(done.stderr.split())  # Rich may wrap long lines


@pytest.mark.parametrize(
    ("bad_lines", "messages"),
    [
        (["6 60 -1 100 4"], ["line 7: truncated: 5 fields, SWF needs 18"]),
        ([line(6, run="abc"), line(7, procs="four")], ["line 7: field 4 (run) is not a number: 'abc'",
                                                       "line 8: field 5 (procs) is not a number: 'four'"]),
        ([line(6, submit=-30), line(7, run=-5)], ["line 7: negative submit time -30", "job 7: run time -5 s"]),
        ([line(6, procs=64), line(7, procs=17)], ["job 6: needs 64 processors, machine has 16",
                                                   "job 7: needs 17 processors, machine has 16"]),
        ([line(6, procs=-1)], ["job 6: no processor count"]),
        ([line(6) + " 99"], ["line 7: 19 fields, SWF has 18"]),
    ],
    ids=["truncated", "text-in-numbers", "negative-times", "too-large", "no-procs", "extra-field"],
)  # fmt: skip
def test_bad_lines_are_skipped_and_counted_and_the_rest_runs(
    tmp_path: Path, bad_lines: list[str], messages: list[str]
) -> None:
    done, summary = simulate_text(tmp_path, HEADER + "\n".join(GOOD + bad_lines) + "\n")
    assert done.returncode == 0, done.stderr
    err = stderr_of(done)
    for message in messages:
        assert message in err
    n_bad = len(bad_lines)
    assert f"{n_bad} job(s) skipped or rejected; the rest of the trace ran" in err
    assert summary["jobs"] == len(GOOD)
    assert summary["skipped"] == n_bad


def test_many_problems_are_summarized_not_all_printed(tmp_path: Path) -> None:
    bad = [line(j, run="x") for j in range(10, 40)]
    done, summary = simulate_text(tmp_path, HEADER + "\n".join(GOOD + bad) + "\n")
    assert done.returncode == 0
    err = stderr_of(done)
    assert "30 job(s) skipped; first ones:" in err and "30 job(s) skipped or rejected; the rest of the trace ran" in err
    assert err.count("is not a number") == 5
    assert summary["jobs"] == 5 and summary["skipped"] == 30


def test_nothing_usable_exits_2(tmp_path: Path) -> None:
    done, summary = simulate_text(tmp_path, HEADER + line(1, run=-1) + "\n" + line(2, procs=99) + "\n")
    assert done.returncode == 2
    err = stderr_of(done)
    assert "2 job(s) skipped" in err and "no usable jobs" in err
    assert summary == {}


def test_an_empty_file(tmp_path: Path) -> None:
    done, _ = simulate_text(tmp_path, "")
    assert done.returncode == 2
    assert "the trace has no jobs: nothing to replay" in stderr_of(done)  # not "machine size unknown ... --procs"
    done, _ = simulate_text(tmp_path, "", "--procs", "8")
    assert done.returncode == 2 and "no usable jobs" in stderr_of(done)


def test_a_binary_file(tmp_path: Path) -> None:
    done, _ = simulate_text(tmp_path, bytes(range(256)) * 8)
    assert done.returncode == 2
    assert "is not a text SWF file" in stderr_of(done)


def test_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    for target, message in ((tmp_path / "nope.swf", "trace file not found"), (tmp_path, "is a directory")):
        done = hal(target, cwd=tmp_path)
        assert done.returncode == 2
        assert message in stderr_of(done) and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--order", "lifo"], "unknown queue order 'lifo'"),
        (["--backfill", "aggressive"], "unknown backfill 'aggressive'"),
        (["--estimate", "oracle"], "unknown estimate 'oracle'"),
        (["--window", "5"], "is not START:COUNT"),
        (["--window", "100:10"], "--window 100:10 starts past the trace's 5 usable jobs"),
        (["--setup", "nobody"], "unknown setup 'nobody'"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done, _ = simulate_text(tmp_path, HEADER + "\n".join(GOOD) + "\n", *args)
    assert done.returncode == 2
    assert message in stderr_of(done)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[nodes]]\nprefix = "n"\ncpus = 4\nmem = "lots"\n', "cannot read memory amount 'lots'"),
        ('[[nodes]]\nprefix = "n"\n[[partitions]]\ndefault = true\n', "[[partitions]] #1: missing key 'name'"),
        ("[[nodes]\n", "not valid TOML"),
        (None, "cannot read cluster file"),
    ],
    ids=["memory", "partition-without-name", "not-toml", "directory"],
)
def test_bad_cluster_files_are_clear_errors(tmp_path: Path, toml: str | None, message: str) -> None:
    cluster = tmp_path
    if toml is not None:
        cluster = tmp_path / "cluster.toml"
        cluster.write_text(toml)
    done, _ = simulate_text(tmp_path, HEADER + "\n".join(GOOD) + "\n", "--cluster", str(cluster))
    assert done.returncode == 2
    assert message in stderr_of(done)


def test_jobs_too_large_for_a_cluster_file_are_skipped(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster.toml"
    cluster.write_text('[[nodes]]\nprefix = "n"\ncount = 2\ncpus = 4\n')
    done, summary = simulate_text(
        tmp_path, HEADER + "\n".join([*GOOD, line(6, procs=12)]) + "\n", "--cluster", str(cluster)
    )
    assert done.returncode == 0, done.stderr
    assert "job 6: needs 12 processors, machine has 8" in stderr_of(done)
    assert summary["jobs"] == 5 and summary["skipped"] == 1

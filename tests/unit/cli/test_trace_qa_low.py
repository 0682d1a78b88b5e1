"""QA (low): `hal trace generate --jobs 10^11` was a MemoryError traceback; `hal trace check --all FILE > list`
left the list on stderr; the bzip2 refusal suggested xzcat; a trace path `-` was "not found"; a one-job trace of
run time 0 wrote "makespan": 1e-09 in the summary JSON where the table says 0."""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "src/hal/data/kth-sp2-sample.swf"
ZERO = "; MaxProcs: 4\n1 0 -1 0 1 -1 -1 1 10 -1 1 1 1 -1 -1 -1 -1 -1\n"


def hal(*args: str | Path, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env)


def test_an_absurd_job_count_is_refused_before_allocating(tmp_path: Path) -> None:
    done = hal("trace", "generate", "g.swf", "--jobs", "100000000000", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--jobs" in done.stderr and "10000000" in done.stderr
    assert not (tmp_path / "g.swf").exists()


def test_trace_check_all_lists_on_stdout(tmp_path: Path) -> None:
    path = tmp_path / "bad.swf"
    path.write_text(SAMPLE.read_text() + "".join(f"not a job {i}\n" for i in range(8)))
    done = hal("trace", "check", "--all", path, cwd=tmp_path)
    assert "8 job(s) unreadable:" in done.stdout
    assert done.stdout.count(": truncated") == 8  # every line, on stdout
    assert "unreadable" not in done.stderr


def test_the_bzip2_refusal_suggests_bzcat(tmp_path: Path) -> None:
    path = tmp_path / "t.swf.bz2"
    path.write_bytes(bz2.compress(SAMPLE.read_bytes()[:2000]))
    done = hal("simulate", path, cwd=tmp_path)
    assert done.returncode == 2 and "<(bzcat FILE)" in done.stderr and "xzcat" not in done.stderr


def test_a_dash_reads_standard_input(tmp_path: Path) -> None:
    done = hal("simulate", "-", cwd=tmp_path, stdin=SAMPLE.read_text())
    assert done.returncode == 0, done.stderr
    assert "3,000" in done.stdout  # the sample's jobs, as from the file
    checked = hal("trace", "check", "-", cwd=tmp_path, stdin=SAMPLE.read_text())
    assert checked.returncode == 0 and "3000 jobs a replay runs" in checked.stdout


def test_a_zero_makespan_is_written_as_zero(tmp_path: Path) -> None:
    (tmp_path / "zero.swf").write_text(ZERO)
    done = hal("simulate", "zero.swf", "--summary-out", "z.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "z.json").read_text())["makespan"] == 0

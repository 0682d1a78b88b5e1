"""QA (medium): a write error during output (a full disk, a file size limit) gave an OSError traceback and left a
truncated file that looked whole. Every output is written to a temporary file beside it and renamed over it only
when complete: a failed write is one line naming the file, exit 2, and no partial file (an old one is kept).

The failures are real: a child process with a small RLIMIT_FSIZE (writes past it fail with EFBIG; Python ignores
SIGXFSZ), or /dev/full (a device, written as it is: ENOSPC)."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hal.atomic_write import OutputError, output_file, write_text

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "src/hal/data/kth-sp2-sample.swf"


def hal(*args: str | Path, cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """``hal ARGS`` in a child whose regular files may not grow past ``limit`` bytes."""

    def small_files() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "COLUMNS": "250", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env=env, preexec_fn=small_files
    )


def failed_cleanly(done: subprocess.CompletedProcess[str], name: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot write {name}" in done.stderr, done.stderr


def no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("option", ["--jobs-out", "--csv-out", "--summary-out"])
def test_simulate_outputs_past_the_size_limit_leave_no_partial_file(tmp_path: Path, option: str) -> None:
    done = hal("simulate", SAMPLE, option, "out.txt", cwd=tmp_path, limit=256)
    failed_cleanly(done, "out.txt")
    assert not (tmp_path / "out.txt").exists()
    no_temporaries(tmp_path)


def test_a_failed_write_keeps_the_old_file_whole(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("job_id\n1\n")
    done = hal("simulate", SAMPLE, "--csv-out", "old.csv", cwd=tmp_path, limit=256)
    failed_cleanly(done, "old.csv")
    assert (tmp_path / "old.csv").read_text() == "job_id\n1\n"


def test_compare_summary_and_plots_past_the_size_limit(tmp_path: Path) -> None:
    summary = hal("compare", SAMPLE, "--policies", "easy:fcfs", "--no-plots", "--summary-out", "c.json",
                  cwd=tmp_path, limit=256)  # fmt: skip
    failed_cleanly(summary, "c.json")
    assert not (tmp_path / "c.json").exists()
    plots = hal("compare", SAMPLE, "--policies", "easy:fcfs", "--plots", "pl", cwd=tmp_path, limit=8192)
    failed_cleanly(plots, "pl/wait_distribution.png")
    assert not list((tmp_path / "pl").iterdir())


def test_predict_eval_and_trace_generate_past_the_size_limit(tmp_path: Path) -> None:
    scored = hal("predict-eval", SAMPLE, "--predictor", "last2", "--csv-out", "p.csv", cwd=tmp_path, limit=512)
    failed_cleanly(scored, "p.csv")
    made = hal("trace", "generate", "g.swf", "--jobs", "500", cwd=tmp_path, limit=512)
    failed_cleanly(made, "g.swf")
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "g.swf").exists()
    no_temporaries(tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_device_is_one_line_and_stays_a_device(tmp_path: Path) -> None:
    done = hal("cluster", "generate", "-o", "/dev/full", cwd=tmp_path)
    failed_cleanly(done, "/dev/full")
    tuned = hal("tune", SAMPLE, "--train", "0:300", "--test", "300:100", "--budget", "4", "--profile-out", "/dev/full",
                cwd=tmp_path)  # fmt: skip
    failed_cleanly(tuned, "/dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the file replaced keeps its mode
    no_temporaries(tmp_path)


def test_an_error_inside_the_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "kept.txt"
    path.write_text("whole")
    with pytest.raises(RuntimeError), output_file(path) as fh:
        fh.write("half")
        raise RuntimeError("the run broke off")
    assert path.read_text() == "whole"
    no_temporaries(tmp_path)


def test_a_missing_folder_is_an_output_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"cannot write .*nowhere/x\.txt"):
        write_text(tmp_path / "nowhere" / "x.txt", "x")


def test_a_fifo_is_written_as_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_text(fifo, "row\n")
        assert os.read(reader, 100) == b"row\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_rlscheduler_setup_summary_on_a_full_device_is_one_line(tmp_path: Path) -> None:
    done = hal(
        "simulate", SAMPLE, "--setup", "rlscheduler", "--order", "f1", "--summary-out", "/dev/full", cwd=tmp_path
    )
    failed_cleanly(done, "/dev/full")

"""QA (low): an output option naming a FIFO hung before the run: writable_files opened it for appending, which
blocks until a reader comes (and with a reader there, closing it again ended the reader's input). Its type is read
first and a FIFO is never opened: it is written as it is when the run writes it, as /dev/stdout into a pipe."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hal.cli.common import writable_files
from tests.unit.learn.conftest import SAMPLE


def test_a_fifo_without_a_reader_is_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    worker = threading.Thread(target=writable_files, args=(fifo,), daemon=True)
    worker.start()
    worker.join(10.0)
    if worker.is_alive():  # a reader lets the blocked open go on
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        worker.join(10.0)
        pytest.fail(f"writable_files blocked opening {fifo} until a reader came")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_an_anonymous_pipe_is_still_an_output() -> None:
    read, write = os.pipe()
    try:
        writable_files(Path(f"/dev/fd/{write}"))  # --csv-out /dev/stdout | gzip
    finally:
        os.close(read)
        os.close(write)


def test_a_reader_of_the_fifo_gets_the_whole_output(tmp_path: Path) -> None:
    """`cat fifo & hal predict-eval ... --csv-out fifo`: the check's open and close gave cat its end of input, so
    cat was gone when the run wrote the rows and the command hung for want of a reader."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    got: list[str] = []

    def cat() -> None:
        with fifo.open(encoding="utf-8") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=cat, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "hal", "predict-eval", str(SAMPLE), "--predictor", "last2", "--csv-out", str(fifo)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("hal predict-eval --csv-out FIFO hung: its reader had been given an end of input")
    finally:
        if reader.is_alive():  # let the reader go whatever happened
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10.0)
    assert done.returncode == 0, done.stderr
    assert got and got[0].startswith("job_id,") and got[0].count("\n") == 3001, got[:1]

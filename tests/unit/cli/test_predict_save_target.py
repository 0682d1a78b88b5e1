"""hal predict-eval --save-model refuses a target that is not a regular file before the run (a FIFO, a device):
the model is saved by renaming a new file over it, which replaced /dev/full with a zip when run as root (QA)."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import build


def test_a_fifo_is_refused_before_the_trace_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "model.zip"
    os.mkfifo(fifo)
    trace = tmp_path / "bad.swf"  # read only after the outputs are checked: its fault must not be what is said
    trace.write_text("this is not an SWF line\n")
    args = ["predict-eval", str(trace), "--predictor", "gbm", "--save-model", str(fifo)]
    got = CliRunner().invoke(build(["predict-eval"]), args)
    assert got.exit_code == 2 and "not a regular file" in got.output, got.output
    assert fifo.is_fifo()

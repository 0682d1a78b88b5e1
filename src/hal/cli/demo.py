"""`hal demo` (what `make run` does): compare policies on the sample trace that ships with HAL."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated

import typer

from hal.cli.compare import compare


def sample_trace() -> Path:
    with as_file(files("hal") / "data" / "kth-sp2-sample.swf") as path:
        return Path(path)


def demo(
    plots: Annotated[Path, typer.Option(help="folder for the PNG plots")] = Path("out/demo"),
) -> None:
    """Compare scheduling policies on the embedded KTH-SP2 sample (3,000 real jobs)."""
    compare(
        sample_trace(),
        policies="none:fcfs,easy:fcfs,easy:fcfs:sjf,conservative:fcfs,easy:sjf,easy:f1,easy:multifactor",
        estimate="user",
        procs=None,
        cluster=None,
        window=None,
        min_runtime=0,
        plots=plots,
        summary_out=None,
    )

"""Shared pieces of the engine speed benchmarks: traces, the minimal simulator's input, medians, tables."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hal.model.job import JobSpec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from minimal_easy import simulate as minimal_simulate  # noqa: E402

TRACES_DIR = HERE.parent.parent / "shared" / "traces"
# name -> (file, processors to simulate: None = the trace's MaxProcs header)
TRACES: dict[str, tuple[str, int | None]] = {
    "SDSC-SP2": ("SDSC-SP2-1998-4.2-cln.swf", None),
    "CTC-SP2": ("CTC-SP2-1996-3.1-cln.swf", 338),
    "HPC2N": ("HPC2N-2002-2.2-cln.swf", None),
}

Row = tuple[int, int, int, int, int]


def trace_path(name: str) -> Path:
    path = TRACES_DIR / TRACES[name][0]
    if not path.exists():
        raise SystemExit(f"trace {path} not found: the benchmarks need ../shared/traces beside the checkout")
    return path


def minimal_rows(jobs: Sequence[JobSpec]) -> list[Row]:
    """The same cleaned jobs in the minimal simulator's tuple form (id, submit, run, procs, request)."""
    return [(j.job_id, int(j.submit_time), int(j.runtime or 0), j.procs, int(j.time_limit or 0)) for j in jobs]


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call.

    CPU time of this process is the primary figure: the machine is shared, and wall time then also
    counts the time other processes held the cores. Both are reported.
    """
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - t0


def time_minimal(capacity: int, rows: list[Row]) -> tuple[float, float]:
    return timed(lambda: minimal_simulate(capacity, rows, False, False))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "inf"


def engine_source() -> str:
    """Which hal is measured (the benchmarks can run an older checkout through PYTHONPATH)."""
    import hal

    return str(Path(hal.__file__).resolve().parent)

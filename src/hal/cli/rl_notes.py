"""What `hal simulate --setup rlscheduler` says about the trace before the setup runs: its unreadable lines, listed
as plain hal simulate lists them, and where RLScheduler's reading differs from the normal replay (QA: lines were
dropped and a repeated job id kept without a word)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from hal.cli.common import err, report_problems
from hal.sim.rlscheduler import load_jobs
from hal.sim.swf import TraceError


def note_rl_reading(trace: Path) -> None:
    """Said once; a trace that cannot be loaded is left to the setup's own one-line error (the file is read once
    either way: hal.sim.rl_reading)."""
    try:
        loaded = load_jobs(trace)
    except (TraceError, OSError, ValueError):
        return
    report_problems(list(loaded.problems))
    for note in loaded.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")

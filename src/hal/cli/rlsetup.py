"""`hal simulate --setup rlscheduler`: RLScheduler's published evaluation, as a named variant."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from hal.atomic_write import OutputError
from hal.cli.common import err, fail, out, report_problems
from hal.cli.sim_json import write_json
from hal.sim.rlscheduler import RlSetup, load_jobs, run_setup
from hal.sim.swf import TraceError


def run_rlscheduler(trace: Path, setup: str, order: str, backfill: str, summary_out: Path | None) -> None:
    if setup != "rlscheduler":
        raise fail(f"unknown setup {setup!r}; known: rlscheduler")
    if backfill not in ("none", "easy"):
        raise fail("the rlscheduler setup has its own backfilling: use --backfill none or easy")
    try:
        loaded = load_jobs(trace)
    except (TraceError, OSError, ValueError) as exc:  # a missing or unreadable trace: one line, as without --setup
        raise fail(str(exc)) from exc
    report_problems(list(loaded.problems))  # its unreadable lines, as plain hal simulate lists them, and where
    for note in loaded.notes:  # RLScheduler's reading differs from the normal replay (QA: said nothing)
        err.print(f"[yellow]note:[/] {escape(note)}")
    try:
        result = run_setup(loaded, RlSetup(policy=order, backfill=backfill == "easy"))
    except (TraceError, OSError, ValueError) as exc:
        raise fail(str(exc)) from exc
    table = Table(title=f"{trace.name}: RLScheduler setup, {order}, backfill={backfill == 'easy'}")
    table.add_column("window start", justify="right")
    table.add_column("avg bsld", justify="right")
    for start, value in zip(result.starts, result.window_bsld, strict=True):
        table.add_row(str(start), f"{value:,.2f}")
    table.add_row("mean", f"{result.mean:,.2f}", style="bold")  # the CLI's console reads no markup
    out.print(table)
    if summary_out:
        data = {
            "trace": str(trace),
            "setup": "rlscheduler",
            "order": order,
            "backfill": backfill == "easy",
            "avg_bsld": result.mean,
            "window_bsld": list(result.window_bsld),
            "window_starts": list(result.starts),
            "wall_seconds": result.seconds,
        }
        try:
            write_json(summary_out, data)
        except OutputError as exc:  # a full disk: one line, and no partial file (atomic_write)
            raise fail(str(exc)) from None

"""What `hal trace check` reports beyond the replay's own reading: header fields nothing reads, submit times
out of order, why a trace without runnable jobs is refused, and complete listings (--all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hal.cli.common import err, fail, out, report_problems
from hal.sim.swf import NUMERIC, SIZE_KEYS, HeaderError, SwfTrace, TraceError


def header_size(trace: SwfTrace) -> str:
    """The machine size the header gives, for the summary line (a malformed one is refused below it)."""
    try:
        return str(trace.max_procs)
    except HeaderError:
        return "invalid"


def header_warnings(trace: SwfTrace) -> list[str]:
    """Malformed numeric header fields that no replay reads (MaxJobs, UnixStartTime, ...): said, not refused,
    since hal simulate runs the file all the same."""
    out = []
    for key in NUMERIC:
        if key in SIZE_KEYS or key not in trace.header:
            continue
        try:
            trace.header_number(key)
        except HeaderError as exc:
            out.append(f"{exc} (no replay reads it)")
    return out


def no_jobs(trace: SwfTrace, workload: Any, rejected: int) -> str:
    """Why a file that reads without error still gives a replay nothing to run."""
    if not trace.records:
        unread = f" ({len(trace.problems):,} line(s) could not be read)" if trace.problems else " (only header lines)"
        return f"the trace has no jobs{unread}: nothing to replay"
    if not workload.jobs:
        return f"every one of its {len(trace.records):,} job(s) is skipped by a replay: nothing to replay"
    return f"the scheduler rejects every one of its {rejected:,} usable job(s): nothing to replay"


def list_all(problems: list[object], what: str) -> None:
    """Every item, where report_problems shows the first five (--all): on stdout, as the command's output
    (QA: `--all > list.txt` left the list on the terminal)."""
    if not problems:
        return
    out.print(f"{len(problems)} job(s) {what}:", markup=False, highlight=False, soft_wrap=True)
    for p in problems:
        out.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)


def first_ones(problems: list[object], what: str) -> None:
    """The first five, as every replay command lists them, and how to see the rest."""
    report_problems(problems, what)
    if len(problems) > 5:
        err.print("  (hal trace check --all lists every one)")


def unreadable(path: Path, exc: TraceError) -> typer.Exit:
    """The exit for a trace read_swf refuses: 1, as --help promises "when the replay would refuse the file", for
    a file that is there (binary, a damaged gzip, compressed otherwise, unreadable); 2, a usage error, only when
    the path names no file (QA: a NUL byte and a truncated gzip exited 2)."""
    named = (path.exists() and not path.is_dir()) or str(path) == "-"
    return fail(str(exc), 1 if named else 2)

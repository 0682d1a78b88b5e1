"""START:COUNT windows of a trace, counted one way by hal simulate, compare, tune and predict-eval.

A window counts the trace's usable jobs (a known run time and processor count, one per job id) in job-id order,
before --min-runtime, --drop-status or the machine's size drop any: so the same window names the same jobs in
every tool and on every machine (simulate counted after dropping jobs larger than --procs, so its window moved
with the machine, QA). A window that starts past the last usable job is refused; one that runs past it keeps the
jobs there are, with a note, in every tool."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hal.model.job import JobSpec
from hal.sim.swf import Problem, SwfTrace
from hal.sim.workload import first_records

WINDOW_RULE = (
    "counted over the trace's usable jobs (a known run time and processor count) in job-id order, before any are "
    "dropped (--min-runtime, --drop-status, jobs larger than the machine), so it names the same jobs in hal "
    "simulate, compare, tune and predict-eval on any machine; one running past the last job keeps those there are"
)


def parse_window(text: str, name: str = "--window") -> tuple[int, int]:
    """START:COUNT as two numbers (ValueError naming ``name``, the option it came from)."""
    try:
        start, count = (int(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"{name} {text!r} is not START:COUNT (e.g. 1000:5000)") from None
    if start < 0 or count <= 0:
        raise ValueError(f"{name} {text!r}: START must be >= 0 and COUNT > 0")
    return start, count


def usable_ids(trace: SwfTrace) -> list[int]:
    """The job ids a window counts, in order: every job whose record (an id's first, the one every tool keeps)
    has a known run time (>= 0) and processor count (field 5, else 8)."""
    kept, _ = first_records(trace.records)
    return [r.job_id for r in kept if r.run >= 0 and (r.procs > 0 or r.req_procs > 0)]


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # the option that gave it: --window, --train, --test
    start: int
    count: int
    ids: tuple[int, ...]  # the window's job ids, in job-id order
    usable: int  # the trace's usable jobs
    lines: tuple[int, int] = (0, 0)  # the file lines of its first and last records (0, 0: built in code)

    @property
    def lo(self) -> int:
        return self.ids[0]

    @property
    def hi(self) -> int:
        return self.ids[-1]

    def of(self, jobs: list[JobSpec]) -> list[JobSpec]:
        """The window's jobs among ``jobs``, in their order (those a tool dropped are not there)."""
        ids = set(self.ids)
        return [j for j in jobs if j.job_id in ids]

    def note(self) -> str | None:
        """Said by every tool when the window runs past the trace's end (None when it does not)."""
        if self.start + self.count <= self.usable:
            return None
        return (
            f"{self.name} {self.start}:{self.count} runs past the trace's {self.usable:,} usable jobs: "
            f"it holds the last {len(self.ids):,}"
        )


def pick(trace: SwfTrace, start: int, count: int, name: str = "--window") -> Window:
    """The window's jobs of ``trace``; ValueError when it starts past the last usable job."""
    ids = usable_ids(trace)
    if start >= len(ids):
        raise ValueError(
            f"{name} {start}:{count} starts past the trace's {len(ids):,} usable jobs (numbered 0 to {len(ids) - 1:,})"
            if ids
            else f"{name} {start}:{count}: the trace has no usable jobs"
        )
    chosen = ids[start : start + count]
    lo, hi = chosen[0], chosen[-1]
    lines = [r.line for r in trace.records if lo <= r.job_id <= hi and r.line > 0]
    return Window(name, start, count, tuple(chosen), len(ids), (min(lines), max(lines)) if lines else (0, 0))


def skips_in(window: Window, skipped: list[Problem]) -> list[Problem]:
    """The skips of the window's stretch of job ids, not the whole trace's (a 1,500-job window reported the
    trace's 10,744 skips): those of the window's own jobs and of unusable records among them, and the lines that
    could not be read between its first and last records (QA: a 10-job window of LLNL Thunder counted the
    trace's 1,190 lines with a negative submit time, none of them near it)."""
    first, last = window.lines
    kept = []
    for problem in skipped:
        job = re.match(r"job (\d+):", problem.message)
        if job is not None:
            inside = window.lo <= int(job[1]) <= window.hi
        else:  # a line that could not be read: no job id to go by, only where it is in the file
            inside = first <= problem.line <= last and problem.line > 0
        if inside:
            kept.append(problem)
    return kept


def narrow_problems(trace: SwfTrace, window: Window) -> str | None:
    """Keeps in ``trace.problems`` only the unreadable lines within the window (``skips_in``), so a replay of it
    counts and lists its own skips; the note saying how many lie outside it (None when none do)."""
    kept = skips_in(window, trace.problems)
    left = len(trace.problems) - len(kept)
    trace.problems[:] = kept
    if not left:
        return None
    return (
        f"(whole trace) {left:,} line(s) that could not be read lie outside {window.name} {window.start}:"
        f"{window.count}: not its skips"
    )

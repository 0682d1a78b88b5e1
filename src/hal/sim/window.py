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
    """The job ids a window counts, in order: every job with a known run time (>= 0) and processor count
    (field 5, else 8), each id once."""
    return sorted({r.job_id for r in trace.records if r.run >= 0 and (r.procs > 0 or r.req_procs > 0)})


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # the option that gave it: --window, --train, --test
    start: int
    count: int
    ids: tuple[int, ...]  # the window's job ids, in job-id order
    usable: int  # the trace's usable jobs

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
    return Window(name, start, count, tuple(ids[start : start + count]), len(ids))


def skips_in(window: Window, skipped: list[Problem]) -> list[Problem]:
    """The skips of the window's stretch of job ids, not the whole trace's (a 1,500-job window reported the
    trace's 10,744 skips): those of the window's own jobs and of unusable records among them."""
    ids = [re.match(r"job (\d+):", p.message) for p in skipped]
    return [p for p, m in zip(skipped, ids, strict=True) if m is None or window.lo <= int(m[1]) <= window.hi]

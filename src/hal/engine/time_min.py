"""sbatch --time-min: backfill may start a job with its limit lowered, never below its minimum, when that lets it
start before the reservation it would otherwise delay.

Slurm does this in its backfill scheduler only; so does HAL (the EASY and conservative passes, not the heads'
pass). The lowered limit is the job's kill limit from then on, which is what keeps the reservation safe: the
job ends by the reserved start whatever it would have run. The time left is the planner's: with a profile that
plans on predicted runtimes, the reservation is where the predictions put it, as for every other backfill choice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from hal.engine.capacity import Alloc, State
from hal.engine.extra_nodes import place_at
from hal.engine.queue import Waiting

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler
    from hal.engine.timeline import Timeline

PRECISION = 1.0  # seconds: a lowered limit is a whole number of seconds, as every limit a user gives
STEP = 300.0  # s a cut job goes on at a time when the head has no planned start (re-checked before each)


def shortened(item: Waiting, window: float) -> float | None:
    """The limit ``item`` may start with when ``window`` seconds are free before a reservation, or None when
    its --time-min does not fit in them (or it has none)."""
    low = item.spec.time_min
    if low is None or not math.isfinite(window) or window < low:
        return None
    return max(low, float(math.floor(window)))


def guarded(
    book: Any, state: State, head: Waiting, shadow: float, item: Waiting, alloc: Alloc, now: float
) -> float | None:
    """The limit a --time-min job that ends before the head's start on its prediction, but not by its whole
    limit, starts with in the EASY pass: the time left before that start (never below its minimum), when its
    resources held to its whole limit would keep the head out. Slurm plans on limits and would cut it so; on a
    prediction alone it started uncut and, when it outlived the prediction, delayed the head (QA). The cut still
    moves with the head's start (controller/lowered_limit.py), so it kills nothing the head cannot use. None:
    its limit delays nobody, or its minimum does not fit before the head's start (it starts uncut, as before)."""
    asked = item.spec.time_limit if item.spec.time_limit is not None else math.inf
    limit = shortened(item, shadow - now)
    if limit is None or now + asked <= shadow or limit >= asked:
        return None
    book.state_sub(state, alloc)
    try:
        blocks = place_at(book, state, head, shadow) is None
    finally:
        book.state_add(state, alloc)
    return limit if blocks else None


def with_limit(item: Waiting, limit: float) -> Waiting:
    """``item`` as it starts with the lowered ``limit``: its estimate and upper bound capped by it."""
    spec = replace(item.spec, time_limit=limit)
    return replace(item, spec=spec, estimate=min(item.estimate, limit), upper=min(item.upper, limit))


def longest_now(timeline: Timeline, item: Waiting, now: float) -> tuple[float, Alloc] | None:
    """The longest limit, from the job's --time-min up to its estimate, with which it starts ``now`` on the
    conservative pass's timeline, and where; None when even its minimum does not fit now.

    Whether a window fits now is monotone in its length, so a bisection finds the longest to a second.
    """
    low = item.spec.time_min
    if low is None or low >= item.estimate:  # the whole estimate did not fit now, so neither does more
        return None
    found = timeline.earliest_start(item.req, low)
    if found is None or found[0] > now:
        return None
    best, alloc = low, found[1]
    top = item.estimate
    while top - best > PRECISION:
        mid = (best + top) / 2
        probe = timeline.earliest_start(item.req, mid)
        if probe is not None and probe[0] <= now:
            best, alloc = mid, probe[1]
        else:
            top = mid
    whole = float(math.floor(top))  # the window usually ends on a whole second (a reservation's start)
    if whole > best and (probe := timeline.earliest_start(item.req, whole)) is not None and probe[0] <= now:
        return whole, probe[1]
    return max(low, float(math.floor(best))), alloc


def free_until(s: Scheduler, job_id: int, now: float) -> float:
    """How long running ``job_id`` may go on without delaying the EASY head: the head's earliest planned start if
    the job gave its resources back now (``now`` when it could start at once, inf when nobody waits or it never
    fits), found as EASY finds its shadow, so a --switches wait running out counts too (QA: the head was kept
    waiting for a whole switch while the cut job ran on).

    A job started with a lowered limit was cut for the head's start as the planner saw it then; when that start
    has moved later (running jobs outlived their predictions), killing it at the old cut frees nothing anyone
    can use (controller/lowered_limit.py lets it go on instead)."""
    from hal.engine.backfill import shadow_of  # backfill imports this module

    head = s.queue.get(s.head_id) if s.head_id is not None else None
    act = s.running.get(job_id)
    if head is None or act is None:
        return math.inf
    book = s.book
    freed = None if act.released else act.alloc
    with _placing_at(book, now):
        state = book.snapshot()
        have = book.free_cpus()
        if freed is not None:
            book.state_add(state, freed)
            have += act.cpus
        if have >= head.cpus and book.state_place(state, head.req) is not None:
            return now
        view = _Without(book, [e for e in s.ends if e[2] != job_id], s.running)
        at = shadow_of(cast("Scheduler", view), head, freed)[0]
    return max(at, now)


@contextmanager
def _placing_at(book: Any, now: float) -> Iterator[None]:
    """The book places as a cycle at ``now`` would (its clock moved forward for the while, then put back)."""
    saved = book.now
    book.now = max(now, saved)
    try:
        yield
    finally:
        book.now = saved


def cut_back_to(s: Scheduler, job_id: int, now: float) -> float:
    """The head's start if running ``job_id`` gave its resources back now, when that is earlier than its start
    with the job running on to its planned end; inf otherwise. A cut job whose limit moved later (the head could
    not start by its cut) is cut back to it once the head can start sooner again (QA: the job ahead ended soon
    after it was planned on its limit, and the head waited for the cut job's whole --time); nothing is gained when
    the head waits for other resources anyway."""
    from hal.engine.backfill import shadow_of

    until = free_until(s, job_id, now)
    if until == math.inf:  # nobody waits, or the head never fits: free_until found the head, or none
        return math.inf
    head = s.queue.get(s.head_id) if s.head_id is not None else None
    if head is None:
        return math.inf
    with _placing_at(s.book, now):
        kept = shadow_of(s, head)[0]
    return until if until < kept - PRECISION else math.inf


@dataclass(slots=True)
class _Without:
    """The scheduler as shadow_of reads it, with one running job's end left out (its resources count as free)."""

    book: Any
    ends: list[tuple[float, int, int]]
    running: dict[int, Any]


def moved_cut(until: float, start: float, asked: float | None, now: float) -> float:
    """The limit a cut job goes on with when the head may start only at ``until``: to then, never past its --time
    (``asked``; inf: neither bounds it). When no start is planned for the head (it is held, or drained nodes keep
    it out), one STEP at a time: the state that stops it may pass (QA: a hold of a few seconds gave a cut job its
    whole 12 hours)."""
    top = asked or math.inf
    to = now + STEP if until == math.inf else until
    return min(top, float(math.floor(to - start)))

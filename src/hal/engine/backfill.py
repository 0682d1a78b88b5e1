"""EASY and conservative backfilling: start later jobs now without delaying the reserved ones."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hal.engine.capacity import Alloc, State
from hal.engine.plan import Plan, Reservation
from hal.engine.queue import Waiting
from hal.engine.timeline import Timeline

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler

MIN_SPAN = 1e-6  # a zero-length estimate still holds its resources at the instant it starts


def shadow_of(s: Scheduler, head: Waiting) -> tuple[float, State]:
    """The earliest predicted end at which the head fits, and what is free then (all ties released)."""
    book = s.book
    state = book.snapshot()
    ends, running = s.ends, s.running
    i, n = 0, len(ends)
    while i < n:
        t = ends[i][0]
        while i < n and ends[i][0] == t:
            book.state_add(state, running[ends[i][2]].alloc)
            i += 1
        if book.state_place(state, head.req) is not None:
            return t, state
    return math.inf, state


def easy_pass(s: Scheduler, plan: Plan, now: float, waiting: list[Waiting]) -> None:
    """One reservation, for the head; a candidate may start if it fits now and either ends by the shadow
    time or leaves the head's resources at the shadow time untouched (Lifka's 'extra' rule)."""
    if len(waiting) < 2:
        return
    book = s.book
    free = book.free_cpus()
    if free <= 0:
        return
    head = waiting[0]
    cands = waiting[1:]
    if s.profile.backfill_order == "sjf":
        cands = sorted(cands, key=lambda w: w.estimate)
    shadow = -1.0
    state: State = None
    started: set[int] = set()
    for cand in cands:
        if cand.cpus > free:
            continue
        if shadow < 0:  # computed lazily: most passes find no candidate that fits
            if not book.fits(cand.req):
                continue
            shadow, state = shadow_of(s, head)
            s.reservations[head.spec.job_id] = shadow
            plan.reservations.append(Reservation(head.spec.job_id, shadow))
        alloc = book.allocate(cand.req)
        if alloc is None:
            continue
        if now + cand.estimate > shadow:
            book.state_sub(state, alloc)
            if book.state_place(state, head.req) is None:
                book.state_add(state, alloc)
                book.release(alloc)
                continue
        s.start(plan, cand, alloc, now, True)
        started.add(cand.spec.job_id)
        free = book.free_cpus()
        if free <= 0:
            break
    if started:
        s.queue.remove(started)


def conservative_pass(s: Scheduler, plan: Plan, now: float, waiting: list[Waiting]) -> None:
    """A reservation for every waiting job; a job starts now only if its earliest slot is now.

    Reservations are kept between passes and compressed in queue order: each job moves to its earliest slot
    given everyone else's, which is never later than the slot it had while estimates are upper bounds.
    """
    book = s.book
    # A job started in this cycle with a zero estimate still holds its resources in the book until the
    # shell's next cycle at this instant: the plan sees it end just after now, never at now.
    after_now = math.nextafter(now, math.inf)
    releases = [(max(a.predicted_end, after_now), a.alloc) for a in s.running.values() if not a.released]
    timeline = Timeline(book, now, releases)
    held: dict[int, tuple[float, float, Alloc]] = {}
    for item in waiting:
        slot = s.slots.get(item.spec.job_id)
        if slot is not None:
            held[item.spec.job_id] = slot = (max(slot[0], now), slot[1], slot[2])
            timeline.reserve(*slot)
    s.slots = {}
    started: set[int] = set()
    blocked = False
    for item in waiting:
        jid = item.spec.job_id
        if jid in held:
            timeline.unreserve(*held[jid])
        span = max(item.estimate, MIN_SPAN)
        found = timeline.earliest_start(item.req, span)
        if found is None:
            blocked = True
            continue
        when, alloc = found
        timeline.reserve(when, span, alloc)
        if when <= now:
            book.take(alloc)
            s.start(plan, item, alloc, now, blocked)
            started.add(jid)
        else:
            blocked = True
            s.slots[jid] = (when, span, alloc)
            s.reservations[jid] = when
            plan.reservations.append(Reservation(jid, when))
    if started:
        s.queue.remove(started)

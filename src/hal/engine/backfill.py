"""EASY and conservative backfilling: start later jobs now without delaying the reserved ones."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hal.engine.capacity import Alloc, State
from hal.engine.extra_nodes import NEVER, Extra, place_at, unpinned
from hal.engine.nodes import NodeBook
from hal.engine.plan import Plan, Reservation
from hal.engine.queue import Waiting
from hal.engine.time_min import guarded, longest_now, shortened
from hal.engine.timeline import Timeline

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler

MIN_SPAN = 1e-6  # a zero-length estimate still holds its resources at the instant it starts


@dataclass(slots=True)
class EasyMemo:
    """What the last EASY pass established about its head: the shadow time, what is free then and where the
    head goes in it (the nodes a late candidate must leave it, see extra_nodes.py).

    While the scheduler's epoch stands still (nothing freed, no prediction changed, nobody left the queue
    but by starting) and the head is the same, free resources only shrank since that pass, so every job it
    rejected would be rejected again: the next pass need only look at the jobs submitted since.
    """

    epoch: int
    head: Waiting
    sharing: bool = False  # the book's kind when planned (it turns into a SharingBook at a first mode, sharing.py)
    shadow: float = -1.0  # -1: not computed yet (most passes find no candidate that fits)
    state: State = None
    planned: Alloc = None  # the head placed in ``state`` (None: not placed)


def shadow_of(s: Scheduler, head: Waiting, taken: Alloc | None = None) -> tuple[float, State, Alloc]:
    """The earliest predicted end at which the head fits, what is free then (all ties released) and the head
    placed in it (None: it never fits).

    ``taken``: an allocation made in this pass that still counts as free (the candidate being tried).
    """
    book = s.book
    state = book.snapshot()
    have = book.free_cpus()
    if taken is not None:
        book.state_add(state, taken)
        have += book.cpus_of(taken)
    need = head.cpus
    ends, running = s.ends, s.running
    state_add, state_place = book.state_add, book.state_place
    i, n = 0, len(ends)
    relax = _relaxed_at(book, head)
    if relax < math.inf:
        return _shadow_relaxing(s, head, state, have, relax)
    while i < n:
        t = ends[i][0]
        while i < n and ends[i][0] == t:
            act = running[ends[i][2]]
            state_add(state, act.alloc)
            have += act.cpus
            i += 1
        if have >= need:
            planned = state_place(state, head.req)
            if planned is not None:
                return t, state, planned
    return math.inf, state, None


def _relaxed_at(book: object, head: Waiting) -> float:
    """When a --switches head's constraint lapses (submit + its capped maxwait), if it is still ahead."""
    if head.spec.switches is None:  # the common case, first: this runs on every shadow computation
        return math.inf
    wait_of = getattr(getattr(getattr(book, "select", None), "args", None), "switch_wait", None)
    if wait_of is None:
        return math.inf
    at = head.req.submit + float(wait_of(head.spec.switches_wait))  # from when it could first start
    return at if at > getattr(book, "now", 0.0) else math.inf


def _shadow_relaxing(s: Scheduler, head: Waiting, state: State, have: int, relax: float) -> tuple[float, State, Alloc]:
    """The shadow of a head whose --switches constraint lapses at ``relax``: each probe places it as the
    selector would at that time, and ``relax`` itself is a candidate time (its nodes may all be free by then
    without any job ending), so backfill cannot take the nodes it will start on once the wait runs out."""
    book, ends, running = s.book, s.ends, s.running
    saved = book.now
    i, n = 0, len(ends)
    try:
        while i < n or relax < math.inf:
            t = ends[i][0] if i < n else math.inf
            if relax <= t:
                book.now = relax
                planned = book.state_place(state, head.req) if have >= head.cpus else None
                if planned is not None:
                    return relax, state, planned
                relax = math.inf
                continue
            while i < n and ends[i][0] == t:
                act = running[ends[i][2]]
                book.state_add(state, act.alloc)
                have += act.cpus
                i += 1
            book.now = max(t, saved)
            planned = book.state_place(state, head.req) if have >= head.cpus else None
            if planned is not None:
                return t, state, planned
    finally:
        book.now = saved
    return math.inf, state, None


def easy_pass(s: Scheduler, plan: Plan, now: float, waiting: list[Waiting] | None) -> None:
    """One reservation, for the head; a candidate may start if it fits now and either ends by the shadow
    time or leaves the head's resources at the shadow time untouched (Lifka's 'extra' rule).

    ``waiting``: this cycle's order for a dynamic queue, None for a static one (the queue's own order).
    """
    queue = s.queue
    head = waiting[0] if waiting is not None else queue.head()
    if head is None:
        return
    fresh = queue.take_fresh(waiting)
    memo = s.easy_memo
    sharing = getattr(s.book, "sharing", False)
    if (
        memo is not None
        and memo.head is head
        and memo.epoch == s.epoch
        and memo.sharing == sharing
        and s.book.time_invariant
    ):
        cands = [w for w in fresh if w is not head]
    else:
        memo = s.easy_memo = EasyMemo(s.epoch, head, sharing)
        cands = (waiting if waiting is not None else queue.items())[1:]
    reserver: HeadReserver | None = getattr(s.book, "reserver", None)
    if reserver is not None:
        if s.profile.backfill_order == "sjf":
            cands.sort(key=lambda w: w.rank_estimate)
        done = reserver.easy(s, plan, now, head, cands)
        if done is not None:
            if done:
                queue.remove(done)
            return
    if cands and (s.book.free_cpus() > 0 or queue.cpuless):
        if s.profile.backfill_order == "sjf":
            cands.sort(key=lambda w: w.rank_estimate)
        started = _scan(s, plan, now, memo, cands)
        if started:
            queue.remove(started)


def _scan(s: Scheduler, plan: Plan, now: float, memo: EasyMemo, cands: list[Waiting]) -> set[int]:
    """Try each candidate in order; memoize what failed so equal or larger requests are not placed again.

    A request that did not fit now rules out its family's larger requests for the rest of the pass (free
    resources only shrink). One that fit but would delay the head, at its preferred spot and on the nodes
    the head does not need (``Extra``), rules out the same shape until the next start; on a fungible book
    (an allocation is the request itself) it rules out the family's larger requests for the whole pass,
    since the state at the shadow time only shrinks too. On a SharingBook the memos are per user: where a job
    may go depends on whose it is there (engine/sharing.py).
    """
    book = s.book
    allocate, release, free_cpus = book.allocate, book.release, book.free_cpus
    fungible = book.fungible
    head = memo.head
    free = free_cpus()
    shadow, state = memo.shadow, memo.state
    nofit: dict[object, int] = {}  # family -> smallest size that did not fit now
    crowds: dict[object, int] = {}  # family (fungible) or shape -> smallest size that would delay the head
    per_user = getattr(book, "sharing", False)
    extra = None if fungible or not isinstance(book, NodeBook) else Extra(book, memo)
    started: set[int] = set()
    cpuless = s.queue.cpuless > 0  # e.g. GPU-only work still fits once the CPUs are gone
    for cand in cands:
        if cand.cpus > free:
            continue
        size = cand.size
        family: object = cand.family
        shape: object = family if fungible else cand.shape
        if per_user:
            family, shape = (family, cand.req.user), (shape, cand.req.user)
        late = now + cand.estimate > shadow
        if late and shadow >= 0 and size >= crowds.get(shape, NEVER) and shortened(cand, shadow - now) is None:
            continue
        if size >= nofit.get(family, NEVER):
            continue
        alloc = allocate(cand.req)
        if alloc is None:
            if fungible or unpinned(cand):
                nofit[family] = size
            continue
        if shadow < 0:
            shadow, state, memo.planned = shadow_of(s, head, alloc)
            memo.shadow, memo.state = shadow, state
            s.reservations[head.spec.job_id] = shadow
            plan.reservations.append(Reservation(head.spec.job_id, shadow))
            late = now + cand.estimate > shadow
        limit = None
        if late:
            book.state_sub(state, alloc)
            planned = place_at(book, state, head, shadow)
            if planned is None:
                book.state_add(state, alloc)
                release(alloc)
                alloc = None if extra is None else extra.place(cand, state, shadow)
                if alloc is None and (limit := shortened(cand, shadow - now)) is not None:
                    alloc = allocate(cand.req)  # ends by the shadow time: it may go anywhere it fits now
                if alloc is None:
                    if fungible or unpinned(cand):
                        crowds[shape] = size
                    continue
            else:
                memo.planned = planned
        elif cand.spec.time_min is not None:  # fits by its prediction; held to its limit it might keep the head out
            limit = guarded(book, state, head, shadow, cand, alloc, now)
        s.start(plan, cand, alloc, now, True, limit)
        started.add(cand.spec.job_id)
        if not fungible:
            crowds.clear()
            if extra is not None:
                extra.outside = -1
        free = free_cpus()
        if free <= 0 and not cpuless:
            break
    return started


class HeadReserver(Protocol):
    """An optional EASY variant a NodeBook may carry (``book.reserver``), e.g. engine/plugins/leaf_reserve.py.

    ``easy`` returns the jobs it started, or None to let the plain EASY pass run.
    """

    def easy(self, s: Scheduler, plan: Plan, now: float, head: Waiting, cands: list[Waiting]) -> set[int] | None: ...


@dataclass(slots=True)
class ConservativeMemo:
    """The timeline a conservative pass left, with every reservation on it.

    ``settled``: no job already holding a reservation moved in that pass, so the reservations are a fixed
    point of compression. While the epoch stands still, another pass would move nobody either: a cycle
    that only appended jobs to a static queue just books the newcomers on this timeline.
    """

    epoch: int
    timeline: Timeline
    settled: bool


def conservative_pass(s: Scheduler, plan: Plan, now: float, waiting: list[Waiting] | None) -> None:
    """A reservation for every waiting job; a job starts now only if its earliest slot is now.

    Reservations are kept between passes and compressed in queue order: each job moves to its earliest slot
    given everyone else's, which is never later than the slot it had while estimates are upper bounds.
    ``waiting``: this cycle's order for a dynamic queue, None for a static one (the queue's own order).
    """
    queue = s.queue
    fresh = queue.take_fresh(waiting)
    memo = s.cons_memo
    if (
        waiting is None
        and memo is not None
        and memo.settled
        and memo.epoch == s.epoch
        and s.book.fungible
        and s.book.time_invariant
        and queue.ends_with(fresh)
        and memo.timeline.advance(now)
    ):
        old = len(queue) - len(fresh)
        started, _ = _book_slots(s, plan, now, memo.timeline, fresh, {}, old > 0)
        if started:
            queue.remove(started)
        return
    if waiting is None:
        waiting = queue.items()
    book = s.book
    # A job started in this cycle with a zero estimate still holds its resources in the book until the
    # shell's next cycle at this instant: the plan sees it end just after now, never at now.
    after_now = math.nextafter(now, math.inf)
    releases = [(max(a.predicted_end, after_now), a.alloc) for a in s.running.values() if not a.released]
    timeline = Timeline(book, now, releases)
    held: dict[int, tuple[float, float, Alloc]] = {}
    overdue = False
    for item in waiting:
        slot = s.slots.get(item.spec.job_id)
        if slot is not None:
            overdue = overdue or slot[0] < now
            held[item.spec.job_id] = (max(slot[0], now), slot[1], slot[2])
    if overdue:
        held = _in_start_order(timeline, waiting, held, s.slots)
    else:
        for slot in held.values():
            timeline.reserve(*slot)
    s.slots = {}
    started, settled = _book_slots(s, plan, now, timeline, waiting, held, False)
    if started:
        queue.remove(started)
    s.cons_memo = ConservativeMemo(s.epoch, timeline, settled)


def _in_start_order(
    timeline: Timeline,
    waiting: list[Waiting],
    held: dict[int, tuple[float, float, Alloc]],
    booked: dict[int, tuple[float, float, Alloc]],
) -> dict[int, tuple[float, float, Alloc]]:
    """Lay the held slots when one is overdue (what it waits for was freed after its start: a late end's
    report, a late cycle). Moved to now with its whole span, it runs into the slot booked after it on the same
    resources, and compression would push it behind that one (QA: a --switches job lost its leaf to the job
    booked after it, then to a later one still). So the slots go in the order they were to start; one that has
    no room left moves to its earliest slot given those before it, and the later ones yield to it in turn."""
    queued = {w.spec.job_id: w for w in waiting if w.spec.job_id in held}
    kept: dict[int, tuple[float, float, Alloc]] = {}
    for jid in sorted(held, key=lambda j: booked[j][0]):  # stable: equal starts keep the queue's order
        slot = held[jid]
        if not timeline.reserve_if_room(*slot):
            found = timeline.earliest_start(queued[jid].req, slot[1])
            if found is None:
                continue  # booked afresh in its turn
            slot = (found[0], slot[1], found[1])
            timeline.reserve(*slot)
        kept[jid] = slot
    return kept


def _book_slots(
    s: Scheduler,
    plan: Plan,
    now: float,
    timeline: Timeline,
    items: list[Waiting],
    held: dict[int, tuple[float, float, Alloc]],
    blocked: bool,
) -> tuple[set[int], bool]:
    """Each job in order to its earliest slot (its held one given back first); returns who started now
    and whether every held reservation stayed where it was."""
    book = s.book
    # On a fungible, time-invariant book a reserved job moves only if a window before its slot fits
    # (its own reservation gives back all it needs from its slot on): check that before giving it back.
    stay = book.fungible and book.time_invariant and timeline.consistent()
    started: set[int] = set()
    settled = True
    for item in items:
        jid = item.spec.job_id
        mine = held.get(jid)
        span = max(item.estimate, MIN_SPAN)
        limit = None
        if (
            mine is not None
            and stay
            and item.spec.time_min is None
            and not timeline.fits_before(item.req, span, mine[0])
        ):
            when, alloc = mine[0], mine[2]
        else:
            if mine is not None:
                timeline.unreserve(*mine)
            found = timeline.earliest_start(item.req, span)
            if found is None:
                blocked = True
                continue
            when, alloc = found
            if when > now and (short := longest_now(timeline, item, now)) is not None:
                limit, alloc = short  # --time-min: a shorter limit that starts it now, before every reservation
                when, span = now, limit
            timeline.reserve(when, span, alloc)
        if mine is not None and (when != mine[0] or when <= now):
            settled = False
        if when <= now:
            book.take(alloc)
            s.start(plan, item, alloc, now, blocked or limit is not None, limit)
            started.add(jid)
        else:
            blocked = True
            s.slots[jid] = (when, span, alloc)
            s.reservations[jid] = when
            plan.reservations.append(Reservation(jid, when))
    return started, settled

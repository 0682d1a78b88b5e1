"""Free resources over time as a step function: earliest_start(request, duration) and reserve(span)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

from hal.engine.capacity import Alloc, Book, State
from hal.engine.request import Request


class Timeline:
    """``states[i]`` is what is free on [times[i], times[i+1]); the last state lasts forever."""

    def __init__(self, book: Book, now: float, releases: Iterable[tuple[float, Alloc]]) -> None:
        self.book = book
        self.times: list[float] = [now]
        self.states: list[State] = [book.snapshot()]
        for when, alloc in sorted(releases, key=lambda r: r[0]):
            when = max(when, now)
            if when > self.times[-1]:
                self.times.append(when)
                self.states.append(book.copy(self.states[-1]))
            book.state_add(self.states[-1], alloc)

    def earliest_start(self, req: Request, duration: float) -> tuple[float, Alloc] | None:
        """The first breakpoint from which the request fits for its whole duration, with a placement.

        When placement is monotone (a request that does not fit a state does not fit anything smaller,
        true of every time-invariant book), a state the request does not fit alone rules out every start
        whose window covers it, so the scan jumps past it: linear in the breakpoints, not quadratic.
        """
        book, times, states = self.book, self.times, self.states
        if not book.time_invariant:
            return self._earliest_any(req, duration)
        place = book.state_place
        fungible = book.fungible
        n = len(times)
        i = 0
        while i < n:
            end = times[i] + duration
            alloc = place(states[i], req)
            if alloc is None:
                i += 1
                continue
            j = i + 1
            while j < n and times[j] < end and place(states[j], req) is not None:
                j += 1
            if j < n and times[j] < end:  # state j cannot hold it: neither can any window covering j
                i = j + 1
                continue
            if not fungible and j > i + 1:  # each state holds it alone; does their minimum?
                window = states[i]
                for k in range(i + 1, j):
                    window = book.state_min(window, states[k])
                alloc = place(window, req)
                if alloc is None:
                    i += 1
                    continue
            return times[i], alloc
        return None

    def fits_before(self, req: Request, duration: float, limit: float) -> bool:
        """Whether a window of ``duration`` starting at a breakpoint before ``limit`` holds the request in
        every state before ``limit`` (monotone, fungible books: what a job reserved at ``limit`` needs to
        move earlier, since its own reservation gives back all it needs from ``limit`` on)."""
        times, states, place = self.times, self.states, self.book.state_place
        n = len(times)
        i = 0
        while i < n and times[i] < limit:
            if place(states[i], req) is None:
                i += 1
                continue
            end = min(times[i] + duration, limit)
            j = i + 1
            while j < n and times[j] < end and place(states[j], req) is not None:
                j += 1
            if j < n and times[j] < end:
                i = j + 1
                continue
            return True
        return False

    def _earliest_any(self, req: Request, duration: float) -> tuple[float, Alloc] | None:
        """The plain scan: every breakpoint, the minimum over its window, placed as the book would place it at
        that time. A constraint that gives way as time passes (a --switches wait) is tried once it has: a
        breakpoint is added where it lapses. Placed as of now, a job whose switch count no free state meets
        had no slot at all, and every later job took what it waited for (QA)."""
        book, times, states = self.book, self.times, self.states
        relaxes = getattr(book, "relaxes_at", None)
        lapse = relaxes(req) if relaxes is not None else None
        if lapse is not None and times[0] < lapse < math.inf:
            self._split(lapse)
        n = len(times)
        saved = getattr(book, "now", None)
        try:
            for i in range(n):
                if saved is not None:
                    book.now = max(times[i], saved)  # time-relaxed books have it
                end = times[i] + duration
                window = states[i]
                j = i + 1
                while j < n and times[j] < end:
                    window = book.state_min(window, states[j])
                    j += 1
                alloc = book.state_place(window, req)
                if alloc is not None:
                    return times[i], alloc
            return None
        finally:
            if saved is not None:
                book.now = saved

    def consistent(self) -> bool:
        """Whether every state is non-negative (no two reservations overlap beyond what is free)."""
        ok = self.book.state_ok
        return all(ok(state) for state in self.states)

    def advance(self, now: float) -> bool:
        """Start the timeline at ``now`` if no breakpoint lies in between (else False: rebuild it)."""
        if now < self.times[0] or (len(self.times) > 1 and self.times[1] <= now):
            return False
        self.times[0] = now
        return True

    def _split(self, t: float) -> int:
        """Index of the breakpoint at time t, inserting one if needed."""
        i = bisect.bisect_right(self.times, t) - 1
        if self.times[i] == t:
            return i
        self.times.insert(i + 1, t)
        self.states.insert(i + 1, self.book.copy(self.states[i]))
        return i + 1

    def reserve(self, start: float, duration: float, alloc: Alloc) -> None:
        first = self._split(start)
        last = self._split(start + duration) if duration > 0 else first
        for k in range(first, last):
            self.book.state_sub(self.states[k], alloc)

    def reserve_if_room(self, start: float, duration: float, alloc: Alloc) -> bool:
        """Reserve the span only if every state over it keeps room for it (False: nothing reserved)."""
        self.reserve(start, duration, alloc)
        times, ok = self.times, self.book.state_ok
        first = bisect.bisect_left(times, start)
        last = bisect.bisect_left(times, start + duration) if duration > 0 else first
        if all(ok(self.states[k]) for k in range(first, last)):
            return True
        self.unreserve(start, duration, alloc)
        return False

    def unreserve(self, start: float, duration: float, alloc: Alloc) -> None:
        """Give back a span taken by ``reserve`` (its breakpoints stay)."""
        first = self._split(start)
        last = self._split(start + duration) if duration > 0 else first
        for k in range(first, last):
            self.book.state_add(self.states[k], alloc)

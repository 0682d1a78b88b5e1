"""Free resources over time as a step function: earliest_start(request, duration) and reserve(span)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

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
        if not book.fungible:
            return self._earliest_placed(req, duration)
        place = book.state_place
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
            return times[i], alloc
        return None

    def _earliest_placed(self, req: Request, duration: float) -> tuple[float, Alloc] | None:
        """earliest_start on a book whose placement depends on where resources are free (each state may hold the
        request alone while their minimum does not). The window slides, its minimum kept by a ``_MinQueue``, and
        only that minimum is placed. When it fails, so does every start up to the last state from which the
        window's tail fails (a later start's window covers that tail, and placement is monotone), found by
        bisection: the scan goes on just after it. QA: placing every state of a window of Philly's multi-day
        jobs alone, and rescanning it after each failed start, made conservative backfilling slow and quadratic.
        The first start whose window holds the request is the same, and so is its placement (that minimum)."""
        book, times, states = self.book, self.times, self.states
        place = book.state_place
        n = len(times)
        window = _MinQueue(book.state_min)
        i = j = 0  # the window holds states[i:j]

        def fails(state: State) -> bool:
            return place(state, req) is None

        while i < n:
            if j == i:
                window.push(states[i])
                j = i + 1
            end = times[i] + duration
            while j < n and times[j] < end:
                window.push(states[j])
                j += 1
            alloc = place(window.minimum(), req)
            if alloc is not None:
                return times[i], alloc
            i += window.drop_failing(fails)
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


class _MinQueue:
    """A sliding window of states with its minimum at amortized O(1) ``meet`` calls a state: the older states as a
    stack of suffix minima (``front[-1]`` the oldest's, the minimum of them all), the newer ones as a list and
    their running minimum. Dropping a failing prefix costs a bisection of ``fails`` calls."""

    def __init__(self, meet: Callable[[State, State], State]) -> None:
        self.meet = meet
        self.front: list[State] = []
        self.back: list[State] = []
        self.back_min: State | None = None

    def push(self, state: State) -> None:
        self.back.append(state)
        self.back_min = state if self.back_min is None else self.meet(self.back_min, state)

    def minimum(self) -> State:
        """The minimum of the window (a lone state itself)."""
        if not self.front:
            return self.back_min
        if self.back_min is None:
            return self.front[-1]
        return self.meet(self.front[-1], self.back_min)

    def drop_failing(self, fails: Callable[[State], bool]) -> int:
        """Drop the oldest states through the newest one from which the window's tail still ``fails``, given that
        the whole window fails and that a tail fails whenever a shorter one does; how many were dropped."""
        dropped = 0
        tail = self.back_min
        if tail is not None and fails(tail):  # a tail within the newer states fails: the older ones all go
            dropped = len(self.front)
            self.front.clear()
            self._shift()
            tail = None
        front = self.front

        def suffix(k: int) -> State:
            return front[k] if tail is None else self.meet(front[k], tail)

        lo, hi = 0, len(front) - 1  # suffix(k): the tail from the (k + 1)-th newest older state; suffix(hi) fails
        while lo < hi:
            mid = (lo + hi) // 2
            if fails(suffix(mid)):
                hi = mid
            else:
                lo = mid + 1
        dropped += len(front) - lo
        del front[lo:]
        return dropped

    def _shift(self) -> None:
        """Move the newer states to the (empty) older stack as suffix minima, the oldest last."""
        acc: State | None = None
        for state in reversed(self.back):
            acc = state if acc is None else self.meet(state, acc)
            self.front.append(acc)
        self.back.clear()
        self.back_min = None

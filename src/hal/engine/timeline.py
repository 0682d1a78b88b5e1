"""Free resources over time as a step function: earliest_start(request, duration) and reserve(span)."""

from __future__ import annotations

import bisect
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
        """The first breakpoint from which the request fits for its whole duration, with a placement."""
        book, times, states = self.book, self.times, self.states
        n = len(times)
        for i in range(n):
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

    def unreserve(self, start: float, duration: float, alloc: Alloc) -> None:
        """Give back a span taken by ``reserve`` (its breakpoints stay)."""
        first = self._split(start)
        last = self._split(start + duration) if duration > 0 else first
        for k in range(first, last):
            self.book.state_add(self.states[k], alloc)

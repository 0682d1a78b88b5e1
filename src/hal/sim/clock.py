"""The simulator's virtual clock: a heap of (time, kind, seq, job) events with a tie-breaking counter."""

from __future__ import annotations

import heapq

# At one timestamp: prediction corrections first (so an overrunning job is never counted free),
# then submissions in input order, then terminations in the order the jobs started.
CORRECT, SUBMIT, END = 0, 1, 2
WAKE = 3  # no job changes, but a time-relaxed constraint does (a --begin time, a --switches wait running out)


class EventQueue:
    """``heap`` is public so a hot loop may use heapq on it directly (entries: time, kind, seq, job)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, int]] = []
        self._seq = 0

    @property
    def heap(self) -> list[tuple[float, int, int, int]]:
        return self._heap

    def push(self, time: float, kind: int, job_id: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (time, kind, self._seq, job_id))

    def pop(self) -> tuple[float, int, int]:
        time, kind, _, job_id = heapq.heappop(self._heap)
        return time, kind, job_id

    def peek(self) -> tuple[float, int] | None:
        """Time and kind of the next event, left in the queue."""
        if not self._heap:
            return None
        return self._heap[0][0], self._heap[0][1]

    def __len__(self) -> int:
        return len(self._heap)

    def load_submissions(self, items: list[tuple[float, int]]) -> None:
        """Bulk-load submissions (already in input order) in O(n)."""
        for time, job_id in items:
            self._seq += 1
            self._heap.append((time, SUBMIT, self._seq, job_id))
        heapq.heapify(self._heap)

"""Stage-in copies shared by jobs: one copy of a dataset into a node at a time, and the jobs that want it.

A copy is watched for every job that wants it, not only the one whose thread runs it: cancelling that job
left the others restarting the copy from byte 0 (QA: a 31.5 MB source read 12.7 MB, then again in full; with
datasets of terabytes, hours lost). It stops when no job wants it any more."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator


class Flight:
    """One copy of a dataset into one node: its lock (held by the thread copying) and the jobs that want it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: Counter[int] = Counter()  # a count: an old attempt's thread and its requeued one may both wait


class Flights:
    """The copies in flight, by (node, dataset); a flight is forgotten once no job wants it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[tuple[str, str], Flight] = {}
        self._local = threading.local()  # the flight this thread is copying for (``copying``)

    @contextlib.contextmanager
    def joined(self, node: str, name: str, job_id: int) -> Iterator[Flight]:
        """``job_id`` wants the copy of ``name`` into ``node`` while in this block (waiting for it or copying)."""
        with self._lock:
            flight = self._flights.setdefault((node, name), Flight())
            flight.jobs[job_id] += 1
        try:
            yield flight
        finally:
            with self._lock:
                flight.jobs[job_id] -= 1
                if flight.jobs[job_id] <= 0:
                    del flight.jobs[job_id]
                if not flight.jobs and self._flights.get((node, name)) is flight:  # nobody holds or waits on it
                    del self._flights[(node, name)]

    @contextlib.contextmanager
    def copying(self, flight: Flight) -> Iterator[None]:
        """This thread runs ``flight``'s copy in this block (``current`` tells its watchers which one)."""
        self._local.flight = flight
        try:
            yield
        finally:
            self._local.flight = None

    def current(self) -> Flight | None:
        return getattr(self._local, "flight", None)

    def wanted(self, flight: Flight, stopping: Callable[[int], bool]) -> bool:
        """Some job that wants ``flight``'s copy is not being stopped (cancelled, requeued)."""
        with self._lock:
            jobs = list(flight.jobs)
        return any(not stopping(job_id) for job_id in jobs)

    def watch(
        self,
        check_stop: Callable[[], None],
        closing: threading.Event,
        stopping: Callable[[int], bool],
        cancelled: Callable[[], Exception],
    ) -> Callable[[], None]:
        """What the copy this thread runs asks between chunks: outside a flight, or once the server stops,
        ``check_stop``; in one, it raises ``cancelled()`` only when no job wants the copy any more."""
        flight = self.current()

        def check() -> None:
            if flight is None or closing.is_set():
                check_stop()
            elif not self.wanted(flight, stopping):
                raise cancelled()

        return check

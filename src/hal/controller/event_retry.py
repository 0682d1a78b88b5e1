"""Job ends the store could not record (database unreachable, locked or full) are kept and recorded on a later pass.

The executor's report of an end is read once (its spool record stays until ``forget``), so an end dropped on a
failed commit left the job RUNNING, its CPUs held and its dependents waiting, until a restart re-read the spool.
A pass's ends are recorded in one transaction that first takes the database's write lock with a no-op write
(``claim``): an outage then fails before the controller's memory changes (engine finish, fair-share charge, CPU
sets, data staging), so the events are simply handled again. Past the claim the ends' writes are kept, not run,
until every end is applied in memory (controller/deferred_writes.py); when they or the commit fail after that (a
connection terminated halfway, a full disk, a connection lost at COMMIT) the writes are kept and replayed as they
were, never the event, so nothing is charged or finished twice, nor lost (QA: a PostgreSQL connection terminated
between the claim and the end's row left the job RUNNING for good, its CPUs freed and its dependant started). A
replay first looks for its first job event, in case a COMMIT that reported failure had gone through. Ends are
recorded in the order they came, a failed one and those after it retried first on the next pass, and no job is
started meanwhile."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hal.controller.deferred_writes import DeferredWrites, Write, committed, outage, run
from hal.executors.api import ExecEvent, ExecEventKind

log = logging.getLogger("hal.controller")


class _Dropped(Exception):
    """Recording the ``index``-th end of a batch failed past the claim; ``mark``: the writes of the ends before it."""

    def __init__(self, index: int, mark: int) -> None:
        super().__init__(index, mark)
        self.index, self.mark = index, mark


@dataclass
class Replay:
    """Ends already applied in memory whose transaction did not commit: its statements, to run again."""

    events: list[ExecEvent]
    writes: list[Write] = field(default_factory=list)


class PendingEnds:
    """The controller's ends not yet committed, oldest first; touched only under the controller's lock."""

    def __init__(self, ctl: Any) -> None:
        self.ctl = ctl
        self.queue: deque[ExecEvent | Replay] = deque()
        self.failing = 0  # passes failed since the store last took an end: logged on the first and when it ends

    def __bool__(self) -> bool:
        return bool(self.queue)

    def handle(self, events: list[ExecEvent]) -> bool:
        """Record ``events``' ends after any still pending; False when some are left for the next pass."""
        self.queue.extend(e for e in events if e.kind is ExecEventKind.ENDED)
        done: list[ExecEvent] = []
        while self.queue:
            try:
                done += self._record()
            except Exception as exc:  # the store refused: these ends and the ones after them wait for the next pass
                self._failed(exc)
                break
        if done:
            self._after(done)
        if not self.queue and self.failing:
            log.warning("the database takes writes again: job ends held since its failure recorded")
            self.failing = 0
        return not self.queue

    def _record(self) -> list[ExecEvent]:
        """The queue's head in one transaction (a replay, or the ends up to the next replay); the ends committed."""
        engine = self.ctl.store.engine
        head = self.queue[0]
        if isinstance(head, Replay):
            try:
                with engine.begin() as conn:
                    if not committed(conn, head.writes):  # unless its COMMIT went through though it failed
                        run(conn, head.writes)
            except Exception as exc:
                if outage(exc):
                    raise  # kept at the head, run again on the next pass
                log.exception("jobs %s: their ends could not be recorded", [e.job_id for e in head.events])
                self.queue.popleft()
                return []  # their spool records are kept: a restart records them
            self.queue.popleft()
            return head.events
        batch: list[ExecEvent] = []
        for item in itertools.takewhile(lambda e: not isinstance(e, Replay), self.queue):
            batch.append(item)  # type: ignore[arg-type]
        try:
            with engine.begin() as conn:
                claim(conn, batch[0].job_id)  # raises in an outage, before anything in memory changed
                deferred = DeferredWrites(conn, engine)  # the ends' writes, run once all are applied in memory
                for i, ev in enumerate(batch):
                    mark = len(deferred.writes)
                    try:
                        self.ctl._ended(deferred, ev)
                    except Exception as exc:  # its memory may be half changed, a retry could charge it twice
                        raise _Dropped(i, mark) from exc
                for _ in batch:
                    self.queue.popleft()
                self.queue.appendleft(Replay(batch, deferred.writes))  # should they fail: the writes, not the ends
                run(conn, deferred.writes)  # a connection lost here or at COMMIT: replayed, as the claim was made
        except _Dropped as bad:  # as before, a fault of this job's end drops it; a restart records it (its spool)
            log.exception("job %s: its end could not be recorded", batch[bad.index].job_id)
            for _ in range(bad.index + 1):
                self.queue.popleft()
            if bad.index:  # the ends before it are applied in memory: their writes are committed on their own
                self.queue.appendleft(Replay(batch[: bad.index], deferred.writes[: bad.mark]))
            return []
        self.queue.popleft()
        return batch

    def _failed(self, exc: BaseException) -> None:
        if not self.failing:
            log.error(
                "cannot record job ends (%d waiting): %s; retried each pass, no job started meanwhile",
                len(self.queue), exc, exc_info=exc,
            )  # fmt: skip
        else:
            log.debug("job ends still waiting for the database: %s", exc)
        self.failing += 1

    def _after(self, done: list[ExecEvent]) -> None:
        """Once the ends are committed: drain a node whose launch failed for its sake, clean up the spool."""
        ctl = self.ctl
        for node, why in {e.drain_node: e.reason for e in done if e.drain_node}.items():
            ctl._drain_faulty(node, why)
        forget = getattr(ctl.executor, "forget", None)
        if forget is not None:
            forget([ev.job_id for ev in done if ev.job_id not in ctl.live])
        ctl.wake.set()


def claim(conn: Connection, job_id: int) -> None:
    """A no-op write to the job's row: it takes SQLite's write lock (a locked database fails here) and proves the
    PostgreSQL connection alive, before the controller changes anything in memory."""
    conn.execute(sa.text("UPDATE jobs SET id = id WHERE id = :job"), {"job": job_id})

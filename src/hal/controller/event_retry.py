"""Job ends the store could not record (database unreachable, locked or full) are kept and recorded on a later pass.

The executor's report of an end is read once (its spool record stays until ``forget``), so an end dropped on a
failed commit left the job RUNNING, its CPUs held and its dependents waiting, until a restart re-read the spool.
A pass's ends are recorded in one transaction that first takes the database's write lock with a no-op write
(``claim``): an outage then fails before the controller's memory changes (engine finish, fair-share charge, CPU
sets, data staging), so the events are simply handled again. When the commit itself fails after that (a full disk,
a connection lost at COMMIT) the memory is already changed: the statements the transaction ran are kept and
replayed as they were, never the event, so nothing is charged or finished twice. Ends are recorded in the order
they came, a failed one and those after it retried first on the next pass, and no job is started meanwhile."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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
    writes: list[tuple[str, Any]] = field(default_factory=list)


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
            with engine.begin() as conn:
                for statement, params in head.writes:
                    conn.exec_driver_sql(statement, params)
            self.queue.popleft()
            return head.events
        batch: list[ExecEvent] = []
        for item in itertools.takewhile(lambda e: not isinstance(e, Replay), self.queue):
            batch.append(item)  # type: ignore[arg-type]
        replay = Replay(batch)
        try:
            with engine.begin() as conn:
                claim(conn, batch[0].job_id)  # raises in an outage, before anything in memory changed
                sa.event.listen(conn, "after_cursor_execute", _recorder(replay))
                for i, ev in enumerate(batch):
                    mark = len(replay.writes)
                    try:
                        self.ctl._ended(conn, ev)
                    except Exception as exc:  # past the claim: its memory may be half changed, a retry could
                        raise _Dropped(i, mark) from exc  # charge it twice
                for _ in batch:
                    self.queue.popleft()
                self.queue.appendleft(replay)  # should the commit fail, the same writes are replayed, not the ends
            self.queue.popleft()
        except _Dropped as bad:  # as before, a fault of this job's end drops it; a restart records it (its spool)
            log.exception("job %s: its end could not be recorded", batch[bad.index].job_id)
            for _ in range(bad.index + 1):
                self.queue.popleft()
            if bad.index:  # the ends before it are applied in memory: their writes are committed on their own
                self.queue.appendleft(Replay(batch[: bad.index], replay.writes[: bad.mark]))
            return []
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


def _recorder(replay: Replay) -> Any:
    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            replay.writes.append((statement, params))

    return record

"""A session's tasks inside the manager: priority queues, retry counts, counters and buffered results."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hal.htc import wire
from hal.htc.app import Application, check_priority, check_slots
from hal.htc.guard import MEMORY_PREFIX, TIMEOUT_PREFIX

Result = tuple[int, int, bytes]  # (task id, status, pickled output or error)
MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a client asks for when it opens a session."""

    app: str
    name: str = ""
    user: str = "nobody"
    priority: int = 1
    max_slots: int | None = None
    recoverable: bool = False
    common: bytes | None = None

    @staticmethod
    def from_dict(data: dict[str, Any]) -> SessionSpec:
        """A client's request; refused when no task could ever run (QA: slots=0 opened a session that hung), or
        when its priority is no whole number (QA: a NaN failed every session's queued tasks of the application)."""
        check_slots(data.get("max_slots"))
        prio = data.get("priority", 1)
        check_priority(prio)
        name = data.get("name", "")
        if not isinstance(name, str) or len(name) > MAX_NAME:  # QA: 100,000 characters stalled `hal sessions`
            raise ValueError(f"a session name is at most {MAX_NAME} characters of text")
        if any(ord(c) < 32 or ord(c) == 127 for c in name):  # QA: hal sessions printed ESC sequences to an admin
            raise ValueError(f"a session name has no control characters: {name!r}")
        return SessionSpec(**data)


@dataclass(slots=True)
class Counters:
    submitted: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    requeued: int = 0  # returned to the queue by a preemption, not counted as an attempt


class SessionState:
    """Queued tasks by priority (highest first, FIFO within a priority); tasks returned by a lost instance
    go back to the front of their queue so submission order is kept as far as possible."""

    def __init__(self, sid: int, spec: SessionSpec, app: Application, now: float) -> None:
        self.sid = sid
        self.spec = spec
        self.app = app
        self.queues: dict[int, deque[tuple[int, bytes]]] = {}
        self.prios: list[int] = []
        self.prio_of: dict[int, int] = {}  # only for tasks with a non-default priority
        self.queued = 0
        self.inflight = 0
        self.cancelled: set[int] = set()
        self.attempts: dict[int, int] = {}
        self.counters = Counters()
        self.client: Any = None  # the client's Conn, None while detached
        self.outbox: list[Result] = []
        self.history: list[Result] | None = [] if spec.recoverable else None
        self.state = "open"
        self.created = now
        self.ended: float | None = None
        self.avg_task: float | None = None  # EWMA of task seconds, for the prefetch depth
        self.busy = 0.0  # seconds service instances spent running this session's tasks
        self.instances: set[int] = set()
        self.target = 0
        self.bind_losses = 0  # instances lost in a row while receiving the common data (losses.py)
        self.fault: str | None = None  # why none of its tasks can ever run (they fail with it)
        self.next_tid = 0  # one past the highest task id ever added: a re-attached client numbers on from it
        self._rate: deque[tuple[float, int]] = deque([(now, 0)], maxlen=64)

    # ---- queue -------------------------------------------------------------------------------------
    def _queue(self, prio: int) -> deque[tuple[int, bytes]]:
        q = self.queues.get(prio)
        if q is None:
            q = self.queues[prio] = deque()
            self.prios = sorted(self.queues, reverse=True)
        return q

    def add(self, items: list[tuple[int, int, bytes]]) -> None:
        for _, prio, _ in items:  # all checked before any is queued
            check_priority(prio, "a task's priority")
        for tid, prio, payload in items:
            if prio:
                self.prio_of[tid] = prio
            self._queue(prio).append((tid, payload))
        self.queued += len(items)
        self.counters.submitted += len(items)
        if items:
            self.next_tid = max(self.next_tid, max(t[0] for t in items) + 1)

    def requeue_front(self, tasks: list[tuple[int, bytes]]) -> None:
        """Tasks back from an instance, oldest first in ``tasks``."""
        for tid, payload in reversed(tasks):
            self._queue(self.prio_of.get(tid, 0)).appendleft((tid, payload))
        self.queued += len(tasks)

    def take(self, n: int) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        cancelled = self.cancelled
        for prio in self.prios:
            q = self.queues[prio]
            while q and len(out) < n:
                item = q.popleft()
                if cancelled and item[0] in cancelled:
                    cancelled.discard(item[0])
                    continue
                out.append(item)
            if len(out) >= n:
                break
        self.queued -= len(out)
        return out

    def cancel(self, tids: list[int] | None) -> list[int]:
        """Cancel queued tasks (all when ``tids`` is None); running ones finish and are reported cancelled."""
        if tids is None:
            gone = [tid for q in self.queues.values() for tid, _ in q if tid not in self.cancelled]  # once only
            for q in self.queues.values():
                q.clear()
            self.queued = 0
            self.cancelled.clear()
        else:
            queued = {tid for q in self.queues.values() for tid, _ in q} - self.cancelled
            gone = [t for t in tids if t in queued]
            self.cancelled.update(gone)
            self.queued -= len(gone)
        for tid in gone:
            self.emit((tid, wire.S_CANCELLED, b""))
        self.counters.cancelled += len(gone)
        return gone

    # ---- results -----------------------------------------------------------------------------------
    def emit(self, result: Result) -> None:
        self.outbox.append(result)
        if self.history is not None:
            self.history.append(result)
        self.prio_of.pop(result[0], None)

    def finished(self, tid: int, status: int, data: bytes, seconds: float) -> None:
        c = self.counters
        if status == wire.S_OK:
            c.done += 1
        else:
            c.failed += 1
        if self.attempts:
            self.attempts.pop(tid, None)
        self.busy += seconds
        avg = self.avg_task
        self.avg_task = seconds if avg is None else avg + 0.05 * (seconds - avg)
        self.emit((tid, status, data))

    def charge_attempt(self, tasks: list[tuple[int, bytes]], at: int, reason: str) -> list[tuple[int, bytes]]:
        """Of a lost instance's tasks, ``tasks[at]`` pays an attempt (losses.py says which). Returns those that go
        back to the queue: all but that one when it has used up its retries."""
        tid = tasks[at][0]
        n = self.attempts.get(tid, 0) + 1
        self.counters.retried += 1
        if n > self.app.max_retries:
            self.attempts.pop(tid, None)
            if reason.startswith((MEMORY_PREFIX, TIMEOUT_PREFIX)):
                why = f"{reason}; gave up after {n} attempts"
            else:
                why = f"service instance lost while running the task ({reason}); gave up after {n} attempts"
            self.finished(tid, wire.S_LOST, why.encode(), 0.0)
            return tasks[:at] + tasks[at + 1 :]
        self.attempts[tid] = n
        return tasks

    def fail_queued(self, why: str) -> None:
        for tid, _ in self.take(self.queued):
            self.finished(tid, wire.S_LOST, why.encode(), 0.0)

    def depth(self) -> int:
        """Tasks to keep in flight per instance: about 20 ms of work, at least 2 and at most 256. An instance
        asks for more at half, so ~10 ms of work hides the manager's refill even on a busy machine, where a
        woken process may wait milliseconds for a CPU; longer tasks keep 2, one running and one ready."""
        if self.avg_task is None:
            return 2
        return max(2, min(256, int(0.02 / max(self.avg_task, 2e-5))))

    def room(self, have: int) -> int:
        """Tasks to hand an instance holding ``have``: up to the depth once it is down to half, and never beyond
        its fair share of the session's live tasks, counting instances still to come (QA: after instant tasks
        the depth was 256 and eight long tasks went to one instance while three idled)."""
        share = -(-(self.queued + self.inflight) // max(1, len(self.instances), self.demand()))
        limit = max(1, min(self.depth(), share))
        return 0 if have > limit // 2 else limit - have

    @property
    def idle(self) -> bool:
        return self.queued == 0 and self.inflight == 0

    def demand(self) -> int:
        if self.fault is not None:
            return 0
        cap = self.spec.max_slots if self.spec.max_slots is not None else self.app.max_instances
        return min(cap, self.queued + self.inflight)

    def rate(self, now: float) -> float:
        """Tasks per second over the last few seconds."""
        done = self.counters.done + self.counters.failed
        last_t, _ = self._rate[-1]
        if now - last_t >= 0.5:
            self._rate.append((now, done))
        while len(self._rate) > 2 and now - self._rate[0][0] > 10.0:
            self._rate.popleft()
        t0, d0 = self._rate[0]
        return (done - d0) / (now - t0) if now > t0 else 0.0

    def summary(self, now: float, running: int | None = None) -> dict[str, Any]:
        """``running``: tasks executing, one per busy instance (the manager counts them); the others handed to
        instances wait there, prefetched (QA: RUNNING 8 with SLOTS 4). Default: at most one per instance."""
        c = self.counters
        running = min(self.inflight, len(self.instances)) if running is None else min(running, self.inflight)
        live = self.state in ("open", "detached")
        return {
            "session": self.sid,
            "name": self.spec.name,
            "app": self.spec.app,
            "user": self.spec.user,
            "priority": self.spec.priority,
            "state": self.state,
            "recoverable": self.spec.recoverable,
            "slots": len(self.instances) if live else 0,  # an ended session holds none (QA: SLOTS 2 when closed)
            "target": self.target if live else 0,
            "submitted": c.submitted,
            "done": c.done,
            "failed": c.failed,
            "cancelled": c.cancelled,
            "running": running,
            "prefetched": self.inflight - running,
            "queued": self.queued,
            "retried": c.retried,
            "requeued": c.requeued,
            "tasks_per_s": round(self.rate(now), 1),
            "busy_s": round(self.busy, 3),
            "created": self.created,
            "ended": self.ended,
        }


@dataclass(slots=True)
class Instance:
    """A service instance: the process on one slot, the session it serves and the tasks it holds."""

    iid: int
    slot: int
    pool: str
    proc: Any
    started: float
    conn: Any = None
    sid: int | None = None
    outstanding: dict[int, bytes] = field(default_factory=dict)
    moving: bool = False  # over its session's share: no new tasks, rebind once drained
    retiring: bool = False  # its node was drained: no new tasks, its slot goes back once it holds none
    idle_since: float = 0.0
    cpus: tuple[int, ...] = ()  # host cores it is pinned to (empty: not pinned)
    mem_mb: int = 0  # its memory limit (0: none)
    lost_reason: str = ""  # set when the manager stops it on purpose (memory), reported for its running task
    stop_by: float = 0.0  # asked to stop for memory: killed if still there after this (monotonic)
    beacon: Any = None  # which task it runs (beacon.Beacon), read when it is lost
    binding: bool = False  # sent its session's common data, not yet acknowledged
    task_seen: tuple[Any, int] | None = None  # (session, task) its beacon said runs at the last look (deadlines.py)
    task_since: float = 0.0  # when that task was first seen running (monotonic)

"""Slots held as one-task jobs in a HAL Scheduler, with preemption of HTC slots by higher-priority batch work.

Each slot is a job named ``htc:<pool>`` carrying the session user's name (so fair share charges HTC usage to
the same ledger as batch) and ``nice = -priority``. Slot jobs hold a lease as their predicted end, renewed
while held, so the planner sees them as long-running work it can plan around. The engine itself has no
preemption; here, when the first waiting batch job cannot start and ranks above running HTC slots in the
queue order, the lowest-ranked slots are reclaimed until it fits.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from hal.engine.capacity import PoolBook
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.plan import Placement, Plan
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.engine.queue import Waiting
from hal.engine.request import request_of
from hal.htc.guard import CoreDealer
from hal.htc.slots import Granted, Reclaimed, Refused, SlotAsk, SlotEvent
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace

HTC_PREFIX = "htc:"
log = logging.getLogger("hal.htc")
Key = tuple[str, str]


@dataclass(slots=True)
class _Batch:
    """A batch job the standalone manager runs as a plain hold of resources for ``duration`` seconds."""

    duration: float
    start: float | None = None


@dataclass(slots=True)
class SlotCounts:
    pending: dict[Key, list[int]] = field(default_factory=dict)
    held: dict[int, Key] = field(default_factory=dict)


class SchedulerSlots:
    """A SlotProvider over a Scheduler. With ``owns_cycle`` it runs cycles itself (standalone manager,
    simulator); otherwise the shell that runs cycles passes each Plan to ``on_plan``."""

    def __init__(
        self,
        sched: Scheduler,
        clock: Callable[[], float] = time.monotonic,
        owns_cycle: bool = True,
        lease: float = 600.0,
        first_id: int = 1 << 40,
        preempt: bool = True,
        on_batch_start: Callable[[Placement], None] | None = None,
        cores: CoreDealer | None = None,
    ) -> None:
        self.sched = sched
        self.clock = clock
        self.owns_cycle = owns_cycle
        self.lease = lease
        self.preempt = preempt
        self.on_batch_start = on_batch_start
        self.cores = cores  # who names the host cores of a granted slot; None: nobody (no pinning)
        self._next_id = first_id
        self.keys: dict[int, Key] = {}
        self.counts = SlotCounts()
        self.batch: dict[int, _Batch] = {}
        self.batch_done: list[tuple[int, float, float]] = []
        self.preempted = 0
        self.rejected: dict[Key, str] = {}
        self._events: list[SlotEvent] = []
        self._dirty = True
        self._last_cycle = -1e18

    # ---- SlotProvider ------------------------------------------------------------------------------
    def ask(self, asks: Sequence[SlotAsk]) -> None:
        now = self.clock()
        wanted = {(a.pool, a.user): a for a in asks}
        held_per: dict[Key, int] = {}
        for key in self.counts.held.values():
            held_per[key] = held_per.get(key, 0) + 1
        for key in list(self.counts.pending):
            if key not in wanted:
                self._withdraw(key, len(self.counts.pending[key]))
        for key, a in wanted.items():
            pending = self.counts.pending.setdefault(key, [])
            have = len(pending) + held_per.get(key, 0)
            if a.count > have:
                try:
                    for _ in range(a.count - have):
                        pending.append(self._submit_slot(a, now))
                except Rejected as exc:
                    self.rejected[key] = str(exc)
                    why = str(exc).partition(": ")[2] or str(exc)  # without the slot job's id
                    self._events.append(Refused(a.pool, a.user, why))
                except Exception as exc:  # one pool's odd size must not stop the others' asks (QA: cpus=0)
                    log.exception("slot request of application %s failed", a.pool)
                    self._events.append(Refused(a.pool, a.user, f"its slot request failed: {exc!r}"))
                self._dirty = True
            elif a.count < have and pending:
                self._withdraw(key, min(len(pending), have - a.count))

    def release(self, slot: int) -> None:
        if self.counts.held.pop(slot, None) is not None:
            self.free_cores(slot)
            self.sched.finish(slot, self.clock(), ok=True)
            self._dirty = True

    def poll(self) -> list[SlotEvent]:
        now = self.clock()
        self._renew(now)
        if self.owns_cycle:
            self._end_batch(now)
            if self._dirty or now - self._last_cycle > 1.0:
                self.on_plan(self.sched.cycle(now))
                self._last_cycle = now
                self._dirty = False
                if self.preempt and self._preempt(now):
                    self.on_plan(self.sched.cycle(now))
        events, self._events = self._events, []
        return events

    def stats(self) -> dict[str, int]:
        return {
            "held": len(self.counts.held),
            "pending": sum(len(v) for v in self.counts.pending.values()),
            "preempted": self.preempted,
            "batch_running": sum(1 for b in self.batch.values() if b.start is not None),
        }

    def close(self) -> None:
        for slot in list(self.counts.held):
            self.release(slot)
        self.ask([])

    # ---- the shell's side --------------------------------------------------------------------------
    def on_plan(self, plan: Plan) -> None:
        """Starts of slot jobs become grants; other starts are batch work. In shared mode the shell calls this
        after each cycle, and then also ``preempt_now``."""
        for placement in plan.starts:
            jid = placement.job_id
            key = self.keys.get(jid)
            if key is None:
                if jid in self.batch:
                    self.batch[jid].start = plan.now
                if self.on_batch_start is not None:
                    self.on_batch_start(placement)
                continue
            pending = self.counts.pending.get(key, [])
            if jid in pending:
                pending.remove(jid)
            self.counts.held[jid] = key
            self._events.append(Granted(jid, key[0], key[1], *self.take_devices(jid)))

    def preempt_now(self) -> bool:
        """Reclaim slots for a waiting batch job that outranks them; the shell then runs a cycle."""
        return self.preempt and self._preempt(self.clock())

    def submit_batch(self, spec: JobSpec, duration: float) -> int:
        """A batch job for the standalone manager: it holds its resources for ``duration`` once started."""
        self.sched.submit(spec, self.clock())
        self.batch[spec.job_id] = _Batch(duration)
        self._dirty = True
        return spec.job_id

    def never(self, per_slot: Resources) -> str | None:
        """Why no slot of this size can ever be held by the scheduler's machine as it is (None: one can)."""
        spec = JobSpec(job_id=0, submit_time=0.0, per_task=per_slot, name=HTC_PREFIX, time_limit=self.lease)
        return self.sched.book.impossible(request_of(spec, self.sched.space))

    def take_devices(self, slot: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The host cores and GPU ids of a slot that has just started (its job holds them in the engine's book);
        the standalone pool names no GPUs."""
        if self.cores is None:
            return (), ()
        return self.cores.take(slot, self.sched.running[slot].item.spec.per_task.cpus), ()

    def free_cores(self, slot: int) -> None:
        if self.cores is not None:
            self.cores.give_back(slot)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ---- helpers -----------------------------------------------------------------------------------
    def _submit_slot(self, a: SlotAsk, now: float) -> int:
        jid = self.new_id()
        spec = JobSpec(
            job_id=jid,
            submit_time=max(now, 0.0),
            per_task=a.per_slot,
            name=HTC_PREFIX + a.pool,
            user=a.user,
            time_limit=self.lease,
            nice=-a.priority,
        )
        self.sched.submit(spec, now)
        self.keys[jid] = (a.pool, a.user)
        return jid

    def _withdraw(self, key: Key, n: int) -> None:
        pending = self.counts.pending[key]
        for _ in range(n):
            jid = pending.pop()
            self.sched.cancel(jid)
            self.keys.pop(jid, None)
        if not pending:
            del self.counts.pending[key]

    def _renew(self, now: float) -> None:
        running = self.sched.running
        for jid in self.counts.held:
            act = running[jid]
            if act.predicted_end - now < self.lease / 2:
                self.sched.extend(jid, now + self.lease)

    def _end_batch(self, now: float) -> None:
        for jid, b in list(self.batch.items()):
            if b.start is not None and now - b.start >= b.duration:
                self.sched.finish(jid, now, ok=True)
                self.batch_done.append((jid, b.start, now))
                del self.batch[jid]
                self._dirty = True

    def _rank(self, items: list[Waiting]) -> list[float]:
        order = self.sched.queue.order
        if order.static:
            return [order.key(w.spec, w.estimate) for w in items]
        est = np.fromiter((w.estimate for w in items), np.float64, len(items))
        return [float(k) for k in order.keys([w.spec for w in items], est, self.sched.ctx)]

    def _batch_head(self) -> Waiting | None:
        """The first waiting batch job. Beside the controller (a cycle every few ms) only when it heads the
        queue, read from the cycle's own result; standalone, the first in a fresh ordering."""
        sched = self.sched
        hid = sched.head_id
        if hid is not None and hid not in self.keys:
            return sched.queue.get(hid)
        if not self.owns_cycle:
            return None
        return next((w for w in sched.queue.ordered(sched.ctx) if w.spec.job_id not in self.keys), None)

    def _preempt(self, now: float) -> bool:
        sched = self.sched
        if not len(sched.queue) or not self.counts.held:
            return False
        head = self._batch_head()
        if head is None or sched.book.fits(head.req):
            return False
        slots = list(self.counts.held)
        ranks = self._rank([head] + [sched.running[j].item for j in slots])
        below = sorted((r, j) for r, j in zip(ranks[1:], slots, strict=True) if r > ranks[0])
        state = sched.book.snapshot()
        chosen: list[int] = []
        for _, jid in reversed(below):
            sched.book.state_add(state, sched.running[jid].alloc)
            chosen.append(jid)
            if sched.book.state_place(state, head.req) is not None:
                break
        else:
            return False
        for jid in chosen:
            pool, _ = self.counts.held.pop(jid)
            self.free_cores(jid)
            sched.finish(jid, now, ok=False)
            self.preempted += 1
            self._events.append(Reclaimed(jid, pool, f"preempted by job {head.spec.job_id}"))
        return True


def standalone_provider(cpus: int, mem_mb: int = 0, gpus: int = 0, **kwargs: object) -> SchedulerSlots:
    """A provider with its own Scheduler over a pool of ``cpus``: the session manager without a controller.

    Multifactor order, so priority, QOS and fair share rank slot jobs and batch jobs the way the controller
    would; QOS ``high`` outranks ``normal`` (HTC slots are ``normal``). The pool has no per-core book, so slots
    are dealt this process's cores round-robin (``cores=None`` in kwargs: no pinning). A pool larger than those
    cores is not pinned: instances stacked on a core cannot move off it when another process loads it, and one
    session's tasks per slot then fell up to 20% below another's (unpinned, the kernel keeps them even).
    """
    kwargs.setdefault("cores", CoreDealer() if cpus <= len(os.sched_getaffinity(0)) else None)
    space = ResourceSpace()
    book = PoolBook((cpus, mem_mb, gpus))
    sched = Scheduler(book, space, Profile(order="multifactor", backfill="easy"), UserEstimate())
    sched.ctx.qos_priority = {"high": 1.0, "normal": 0.5, "low": 0.0}
    return SchedulerSlots(sched, **kwargs)  # type: ignore[arg-type]


def batch_spec(provider: SchedulerSlots, per_task: Resources, user: str, qos: str, duration: float) -> JobSpec:
    return JobSpec(
        job_id=provider.new_id(),
        submit_time=max(provider.clock(), 0.0),
        per_task=per_task,
        user=user,
        qos=qos,
        name="batch",
        time_limit=duration + 1.0,
    )

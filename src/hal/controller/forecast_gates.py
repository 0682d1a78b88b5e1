"""What a start forecast's clone must be told that the engine does not hold: the array tasks a ``%limit`` keeps
out of it (hal/controller/core.py gates them), the jobs deferred behind those tasks, and the ended jobs those
depend on (a clone without history has forgotten every ended job no held job of its own names)."""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from dataclasses import replace
from typing import Any

from hal.engine.api import Estimate, RuntimePredictor
from hal.engine.cycle import Rejected, Scheduler
from hal.engine.predict.basic import DEFAULT_LIMIT
from hal.model.job import JobSpec


class GatedClone(Scheduler):
    """A forecast's clone that lets an array's waiting tasks go as its ``%limit`` does live (holds.py,
    ``admit_waiting``): every task of the array that ends frees a slot, and the next waiting task in index order
    takes it, whichever task ended. The waiting tasks sit in the clone held, so every forward run draws their run
    times, and each one is let go when a slot frees in that run. Fixed lanes (each waiting task after the task
    ``limit`` places ahead of it) let a task overtake the one before it whenever a run drew its lane shorter, and
    split the array's p90s by lane (QA: 169_3 forecast before 169_2, odd tasks' p90s 15 minutes before even
    ones'). Clones of this clone (each forward run's) keep their own queues of waiting tasks."""

    gated: dict[int, deque[int]]  # array id -> its waiting tasks, in the order they are let go
    arrays: dict[int, int]  # task id -> its array, for every task of an array with tasks waiting

    def clone(self, predictor: RuntimePredictor | None = None, history: bool = True) -> Scheduler:
        twin = super().clone(predictor, history)
        assert isinstance(twin, GatedClone)  # twin_of copies the object, class and all
        twin.gated = {a: deque(w) for a, w in self.gated.items()}
        return twin

    def finish(self, job_id: int, now: float, ok: bool | None = True, ran: bool = True, learn: bool = True) -> None:
        super().finish(job_id, now, ok, ran, learn)
        array = self.arrays.get(job_id)
        if array is not None:
            self.let_go(array)

    def let_go(self, array: int) -> None:
        """The array's next waiting task takes a free slot (it is released; a cycle queues it)."""
        waiting = self.gated.get(array)
        while waiting:
            item = self.held.get(waiting.popleft())
            if item is not None:
                self.held[item.spec.job_id] = replace(item, spec=replace(item.spec, held=False))
                return


def behind_limits(snap: Scheduler, ctl: Any, now: float) -> None:
    """Put the array tasks a ``%limit`` keeps out of the engine into a forecast's clone (``snap`` becomes a
    ``GatedClone``), so the jobs queued behind them are not forecast too early and they get forecasts
    themselves, planned like the array's first task in the engine (on its limit when there is none). Jobs
    deferred until those tasks are known follow, planned on their requests (never predicted)."""
    behind = {a: g for a, g in ctl.gates.items() if g.waiting}
    if behind:
        arrays = {j: lv.array_job_id for j, lv in ctl.live.items() if lv.array_job_id in behind}
        likes: dict[int, Estimate] = {}
        for j in sorted(arrays):  # each array's first task in the engine stands in for its waiting ones
            item = snap.running[j].item if j in snap.running else snap.held.get(j) or snap.queue.get(j)
            if item is not None and j not in ctl.gated:
                likes.setdefault(arrays[j], Estimate(item.estimate, item.upper))
        snap.__class__ = GatedClone  # a plain clone's state, with the gates' rules on top
        assert isinstance(snap, GatedClone)
        snap.arrays, snap.gated = arrays, {}
        for array_id, gate in behind.items():
            order: deque[int] = deque()
            for spec in (ctl.live[j].spec for j in gate.waiting):
                estimate = likes.get(array_id) or _on_request(spec)
                if spec.held:  # held by its user: no slot, no forecast, none behind it let go early
                    _submit(snap, ctl, spec, now, estimate)
                elif _submit(snap, ctl, replace(spec, held=True), now, estimate):
                    order.append(spec.job_id)
            snap.gated[array_id] = order
            # room the controller has not filled yet (none, mostly), at most one a waiting task: with no limit left
            # (ArrayTaskThrottle=0: 2**31 - 1) this counted to two billion under the controller's lock (QA HIGH)
            for _ in range(min(gate.limit - gate.inflight, len(order))):
                snap.let_go(array_id)
    for job_id in sorted(ctl.deferred):  # jobs waiting on those tasks
        spec = ctl.live[job_id].spec
        _submit(snap, ctl, spec, now, _on_request(spec))


def _on_request(spec: JobSpec) -> Estimate:
    limit = spec.time_limit or DEFAULT_LIMIT
    return Estimate(limit, limit)


def _submit(snap: Scheduler, ctl: Any, spec: JobSpec, now: float, estimate: Estimate) -> bool:
    """Into the clone, with the ended jobs it depends on that the clone forgot (their outcomes, as the controller's
    scheduler keeps them): without them it was refused ("dependency on unknown job") and got no forecast, e.g. a
    job after a whole array once the array's first task had ended (QA). False when refused all the same."""
    live = ctl.sched
    for dep in spec.dependencies:
        if dep.job_id not in snap.known and dep.job_id in live.outcomes:
            snap.remember(dep.job_id, live.outcomes[dep.job_id])
    with suppress(Rejected):  # e.g. a dependency nobody knows: no forecast for it, nothing else
        snap.submit(spec, now, estimate)
        return True
    return False

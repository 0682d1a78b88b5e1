"""Starts a cycle planned whose records could not be committed (database unreachable, locked or full) are taken
back: the engine had them running on their nodes while the store still had them PENDING, so they were never
launched, held their nodes and blocked the jobs behind them until a restart re-read the store. Put back, they
are planned again on the next pass, once the store takes writes. Whatever fails between the engine's cycle and
the plan's records (the HTC bridge, a later bookkeeping write) puts its starts back too (QA: a failed EligibleTime
write left a phantom start, PENDING with Priority=N/A while the engine held its nodes until a restart)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hal.controller.invalid_deps import after_cycle
from hal.engine.plan import Plan

log = logging.getLogger("hal.controller")


@dataclass(frozen=True, slots=True)
class Before:
    """What starting a job changes of it in the controller's memory (its request and spec are replaced, never
    changed in place, when a --time-min cut lowers its limit)."""

    live: Any
    state: str
    partition: str
    spec: Any
    request: Any


def snapshot(ctl: Any, plan: Plan) -> list[Before]:
    return [
        Before(lv, lv.state, lv.partition, lv.spec, lv.request) for p in plan.starts if (lv := ctl.live.get(p.job_id))
    ]


def put_back(ctl: Any, kept: list[Before], now: float) -> None:
    """The jobs of ``kept`` pending again in memory, as the store still has them; their nodes freed, their charge
    refunded (their work never began) and their %limit slots kept (still theirs: they are handed straight back)."""
    for b in kept:  # every one released first: handing one back may read the store, which may fail again
        lv = b.live
        ctl.machine.release(lv.job_id)
        if lv.job_id in ctl.sched.running:
            ctl.sched.finish(lv.job_id, now, ok=None, ran=False)
        ctl.sched.forget(lv.job_id)
        lv.state, lv.partition, lv.spec, lv.request = b.state, b.partition, b.spec, b.request
    for b in kept:
        try:
            ctl._to_engine(b.live, now)
        except Exception:  # its dependencies' states could not be read: a restart re-reads the store
            log.exception("job %s: could not be handed back to the engine", b.live.job_id)
    if kept:
        log.error("could not record the start of %d job(s); they are pending again and retried", len(kept))


def settle(ctl: Any, plan: Plan, now: float, spent: float) -> None:
    """What follows the engine's cycle: HTC slot grants, the plan's starts recorded and launched first (a failed
    bookkeeping write after them then holds back no start), then the cycle's dependency bookkeeping. On any failure
    every job the engine marked running that was never recorded as started is put back before the error goes on."""
    try:
        if ctl.htc is not None:
            plan = ctl.htc.on_cycle(plan)
        ctl.cycles += 1
        if plan.starts:
            ctl._apply(plan, now)
        after_cycle(ctl, now)  # dependencies met (EligibleTime) or never to be (--kill-on-invalid-dep)
        ctl.observer.cycle(spent)
    except Exception:
        put_back(ctl, unrecorded(ctl), now)
        raise


def unrecorded(ctl: Any) -> list[Before]:
    """Jobs the engine has running while the controller still has them PENDING: planned, never recorded."""
    lives = [lv for jid in list(ctl.sched.running) if (lv := ctl.live.get(jid)) is not None and lv.state == "PENDING"]
    return [Before(lv, lv.state, lv.partition, lv.spec, lv.request) for lv in lives]

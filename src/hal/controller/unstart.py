"""Starts a cycle planned whose records could not be committed (database unreachable, locked or full) are taken
back: the engine had them running on their nodes while the store still had them PENDING, so they were never
launched, held their nodes and blocked the jobs behind them until a restart re-read the store. Put back, they
are planned again on the next pass, once the store takes writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

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

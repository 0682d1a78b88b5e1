"""What-if copies of a scheduler (start forecasts, `hal explain`'s advice, --test-only): independent state,
shared immutable specs, requests and allocations."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING

from hal.engine.api import RuntimePredictor
from hal.engine.queue import PendingQueue

if TYPE_CHECKING:
    from hal.engine.cycle import Scheduler


def twin_of(s: Scheduler, predictor: RuntimePredictor | None = None, history: bool = True) -> Scheduler:
    """An independent copy of the state: cycles, finishes and extensions on it never reach ``s``.

    ``predictor`` replaces the learner in the copy (default: shared), so a what-if run that finishes
    jobs need not teach the real one. Specs, requests and allocations are immutable and shared.
    ``history=False`` keeps only the ended jobs that held jobs depend on (copying every id a long run
    has seen dominates a short what-if run); such a copy must not be given new submissions.
    """
    twin = copy.copy(s)
    twin.predictor = s.predictor if predictor is None else predictor
    # The book's state may name waiting jobs' requests (a topology_reserve Hold is for ``req is hold.req``): a
    # copy of one would no longer be that request, and the clone would start a held job anywhere at once (QA).
    shared = {id(w.req): w.req for w in (*s.queue.items(), *s.held.values())}
    twin.book = copy.deepcopy(s.book, shared)
    twin.queue = PendingQueue(s.queue.order)
    for item in s.queue.items():  # queue order, so every add appends
        twin.queue.add(item)
    twin.queue.forget_fresh()
    twin.held = dict(s.held)
    twin.running = {jid: replace(act) for jid, act in s.running.items()}
    twin.ends = list(s.ends)
    if history:
        twin.outcomes, twin.known, twin.ended_at = dict(s.outcomes), set(s.known), dict(s.ended_at)
        twin.started, twin.withdrawn = dict(s.started), set(s.withdrawn)
    else:
        deps = {d.job_id for w in s.held.values() for d in w.spec.dependencies}
        twin.outcomes = {j: s.outcomes[j] for j in deps if j in s.outcomes}
        twin.ended_at = {j: s.ended_at[j] for j in deps if j in s.ended_at}
        twin.started = {j: s.started[j] for j in deps if j in s.started}
        twin.withdrawn = {j for j in deps if j in s.withdrawn}
        twin.known = {*s.running, *s.held, *(w.spec.job_id for w in s.queue.items()), *twin.outcomes}
    twin.ledger = s.ledger.copy()
    twin.accounts = None  # a what-if run charges no account
    twin.ctx = replace(s.ctx, usage=dict(s.ctx.usage))
    twin.reasons, twin.reservations, twin.slots = dict(s.reasons), dict(s.reservations), dict(s.slots)
    twin.satisfied = {}  # a what-if run's moments are not the live jobs' EligibleTime
    twin.easy_memo = twin.cons_memo = None  # a memo holds mutable planning state; the copy starts afresh
    twin._families, twin._shapes = dict(s._families), dict(s._shapes)
    return twin

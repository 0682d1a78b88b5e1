"""Fair-share usage charged as it accrues, as Slurm's priority/multifactor does.

A running job is charged every ``charge_period`` seconds (the profile's; Slurm's PriorityCalcPeriod, 5 minutes
by default; 0: at every cycle) for its CPU-seconds since it was last charged, and when it ends only the rest: a
user running jobs sees their usage grow, and their fair-share factor drop, while the jobs run, not only once
they end. Undecayed, a job is charged ``runtime * units`` in all (engine/billing.py), once, exactly as when it
was charged at its end.

Each piece decays from the moment it is charged, as usage does in Slurm: at time T the job has added
``sum(piece_i * 2^-(T - t_i) / half_life)``, which for a job charged in one piece (it ended before a charge
came due) is exactly the old single charge at its end; charged in pieces, the early pieces have decayed more (a
job running for hours weighs a little less than if it had all been used at its end, as it really was used
earlier). A job whose work never began (``finish(ran=False)``: its inputs never arrived) is refunded what it was
charged, decayed as the ledger decayed it, so it is charged nothing, as before.

The engine charges the users' ledger and, when the shell gives it one (the live controller's, for `hal usage`), an
accounts' ledger keyed by ``spec.account or spec.user``, both by what the allocation holds (its CPUs; with the
profile's ``billing_weights`` the weighted sum, engine/billing.py), as Slurm bills AllocTRES: a restart recharges
the same from the records' allocations, so usage is the same before and after one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hal.engine.billing import billed, parse_weights
from hal.engine.fairshare import decayed_usage

if TYPE_CHECKING:
    from hal.engine.cycle import Active, Scheduler


def accrue(sched: Scheduler, now: float) -> None:
    """Charge every running job for its time since it was last charged (up to ``now``); one ledger charge per
    user (and account), whatever the number of their jobs."""
    sched.charge_due = now + sched.profile.charge_period
    half = sched.ledger.half_life
    accounts = sched.accounts
    users: dict[str, float] = {}
    accts: dict[str, float] = {}
    gap, factor = math.nan, 1.0  # most jobs were charged together last time: one power per distinct gap
    weights = parse_weights(sched.profile.billing_weights)
    for act in sched.running.values():
        dt = now - act.charged_to
        if dt <= 0.0:
            continue
        spec = act.item.spec
        if act.span:
            if dt != gap:
                gap, factor = dt, math.pow(2.0, -dt / half) if half > 0 else 1.0
            act.span = act.span * factor + dt
        else:
            act.span = dt
        act.charged_to = now
        units = dt * billed(weights, spec, act.alloc, act.cpus)
        users[spec.user] = users.get(spec.user, 0.0) + units
        if accounts is not None:
            key = spec.account or spec.user
            accts[key] = accts.get(key, 0.0) + units
    for user, cpu_s in users.items():
        sched.ledger.charge(user, cpu_s, now)
    if accounts is not None:
        for key, cpu_s in accts.items():
            accounts.charge(key, cpu_s, now)


def settle(sched: Scheduler, act: Active, now: float, ran: bool) -> None:
    """A job ended at ``now``: charge the rest of its run (from when it was last charged; negative if an end
    reported late came before that charge), or, when it never ran, refund all it was charged."""
    spec = act.item.spec
    account = sched.accounts
    units = billed(parse_weights(sched.profile.billing_weights), spec, act.alloc, act.cpus)
    if ran:
        dt = now - act.charged_to
        sched.ledger.charge(spec.user, dt * units, now)
        if account is not None:
            account.charge(spec.account or spec.user, dt * units, now)
        return
    if not act.span:
        return
    at = max(now, act.charged_to)  # the span's value decayed to a time no earlier than its last piece
    half = sched.ledger.half_life
    span = act.span * math.pow(2.0, -(at - act.charged_to) / half) if half > 0 else act.span
    sched.ledger.charge(spec.user, -span * units, at)
    if account is not None:
        account.charge(spec.account or spec.user, -span * units, at)


def current_usage(sched: Scheduler, now: float, accounts: bool = False) -> dict[str, float]:
    """Decayed usage per user (or per account) at ``now``, with what the running jobs have used since they were
    last charged: what `hal shares` shows between two charges (the queue is ordered by the charged usage)."""
    ledger = sched.accounts if accounts else sched.ledger
    if ledger is None:
        return {}
    usage = decayed_usage(ledger, now)
    weights = parse_weights(sched.profile.billing_weights)
    for act in sched.running.values():
        dt = now - act.charged_to
        if dt > 0.0:
            spec = act.item.spec
            key = (spec.account or spec.user) if accounts else spec.user
            usage[key] = usage.get(key, 0.0) + dt * billed(weights, spec, act.alloc, act.cpus)
    return usage

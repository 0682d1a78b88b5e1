"""sprio and sshare for HAL: the parts of each pending job's multifactor priority, and each user's decayed usage
and fair-share factor, read from the live scheduler (what the next cycle orders the queue by). Usage accrues while
jobs run (engine/accrual.py): both show it up to now, running jobs' time since their last charge included; the
queue itself is ordered by the usage charged every ``charge_period`` (Slurm's PriorityCalcPeriod)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hal.controller.auth import Identity
from hal.engine.accrual import current_usage
from hal.engine.plugins.multifactor import Multifactor, fairshare_factors


def priorities(ctl: Any, who: Identity) -> dict[str, Any]:
    """Pending jobs the caller may see, highest priority first, each with its weighted factors."""
    with ctl.lock:
        order = ctl.sched.queue.order
        specs = [w.spec for w in [*ctl.sched.queue.items(), *ctl.sched.held.values()]]  # sprio lists all pending
        usage = current_usage(ctl.sched, ctl.clock())  # the running jobs' usage up to now, as `hal shares` shows
        ctx = replace(ctl.sched.ctx, now=ctl.clock(), usage=usage, total_usage=sum(usage.values()))
    if not isinstance(order, Multifactor):
        return {"order": order.name, "weights": {}, "jobs": []}
    specs = [s for s in specs if who.may_see(s.user)]
    parts = order.factors(specs, ctx) if specs else {}
    jobs = []
    for i, spec in enumerate(specs):
        factors = {k: round(float(v[i]), 2) + 0.0 for k, v in parts.items()}  # + 0.0: no -0 for a zero nice
        jobs.append({"job_id": spec.job_id, "user": spec.user, "partition": spec.partition,
                     "priority": round(sum(factors.values()), 2), "factors": factors})  # fmt: skip
    jobs.sort(key=lambda j: (-j["priority"], j["job_id"]))
    a = order.args
    weights = {"age": a.weight_age, "fairshare": a.weight_fairshare, "jobsize": a.weight_jobsize,
               "partition": a.weight_partition, "qos": a.weight_qos}  # fmt: skip
    return {"order": order.name, "weights": weights, "jobs": jobs}


def shares(ctl: Any, who: Identity) -> dict[str, Any]:
    """Every user with usage or a pending or running job (only the caller's own row unless an administrator): decayed
    CPU-seconds, their part of the total, the share each user holds (equal shares) and the fair-share factor
    2^(-usage/share) the priority weighs."""
    with ctl.lock:  # usage decayed to now, with the running jobs' since their last charge (it grows as they run)
        usage = current_usage(ctl.sched, ctl.clock())
        ctx = replace(ctl.sched.ctx, usage=usage, total_usage=sum(usage.values()))
        queued = {w.spec.user for w in ctl.sched.queue.items()} | {w.spec.user for w in ctl.sched.held.values()}
        queued |= {a.item.spec.user for a in ctl.sched.running.values()}  # sshare lists every association
        half_life = ctl.sched.ledger.half_life
    users = queued | set(ctx.usage)
    factors = fairshare_factors(users, ctx)
    total = ctx.total_usage
    rows = [
        {"user": u, "raw_usage": round(ctx.usage.get(u, 0.0), 1), "norm_shares": round(1.0 / len(users), 6),
         "effective_usage": round(ctx.usage.get(u, 0.0) / total, 6) if total > 0 else 0.0,
         "fairshare": round(factors[u], 6)}
        for u in sorted(users)
        if who.may_see(u)
    ]  # fmt: skip
    return {"half_life": half_life, "billing_weights": ctl.profile.billing_weights, "users": rows}

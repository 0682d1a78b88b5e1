"""sprio and sshare for HAL: the parts of each pending job's multifactor priority, and each user's decayed usage
and fair-share factor, read from the live scheduler. Usage accrues while jobs run (engine/accrual.py): `hal shares`
shows it up to now, running jobs' time since their last charge included; the queue is ordered by the usage charged
every ``charge_period`` (Slurm's PriorityCalcPeriod), and `hal prio` shows the priorities the last cycle ordered it
by, as sprio shows the ones slurmctld last computed."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from hal.controller.auth import Identity
from hal.engine.accrual import current_usage
from hal.engine.plugins.multifactor import Multifactor, fairshare_factors
from hal.engine.queue import eligible
from hal.model.job import JobSpec


def priorities(ctl: Any, who: Identity) -> dict[str, Any]:
    """Pending jobs the caller may see, highest priority first, each with its weighted factors: the values the last
    cycle ordered the queue by (sprio's), with its time and its charged usage, and the ages it counted from each job's
    eligible time. Held jobs are listed at priority 0 (Slurm's); jobs not yet eligible (--begin, dependencies) age 0;
    array tasks behind their %limit are listed too, as sprio lists every pending job."""
    with ctl.lock:
        order = ctl.sched.queue.order
        pending, queued = _pending(ctl), len(ctl.sched.queue)
        ctx = replace(ctl.sched.ctx)
        usage = current_usage(ctl.sched, ctl.clock())  # for jobs out of the queue: the last cycle's may be old (QA)
        now_ctx = replace(ctx, usage=usage, total_usage=sum(usage.values()))
        tasks = {j: (lv.array_job_id, lv.array_task_id) for j, lv in ctl.live.items() if lv.array_job_id is not None}
    if not isinstance(order, Multifactor):
        return {"order": order.name, "weights": {}, "jobs": []}
    # the queue's jobs as the cycle weighed them: fair shares split among its users (and those with usage); the others
    # among every pending job's users. Both before keeping the caller's jobs, which would split them among fewer users
    specs = [s for s, _ in pending]
    ordered, every = order.factors(specs[:queued], ctx), order.factors(specs, now_ctx)
    jobs = []
    for i, (spec, held) in enumerate(pending):
        if not who.may_see(spec.user):
            continue
        got = ordered if i < queued else every
        factors = {k: round(float(v[i]), 2) + 0.0 for k, v in got.items()}  # + 0.0: no -0 for a zero nice
        # a held job's is 0 and any other's at least 1, as Slurm keeps them (Nice=100000 showed %Q -92184)
        prio = 0.0 if held else max(round(sum(factors.values()), 2), 1.0)
        row: dict[str, Any] = {"job_id": spec.job_id, "user": spec.user, "partition": spec.partition,
                               "priority": prio, "factors": factors, "held": held}  # fmt: skip
        if spec.job_id in tasks:
            row["array_job_id"], row["array_task_id"] = tasks[spec.job_id]
        jobs.append(row)
    jobs.sort(key=lambda j: (-j["priority"], j["job_id"]))
    a = order.args
    weights = {"age": a.weight_age, "fairshare": a.weight_fairshare, "jobsize": a.weight_jobsize,
               "partition": a.weight_partition, "qos": a.weight_qos}  # fmt: skip
    return {"order": order.name, "weights": weights, "jobs": jobs}


def _pending(ctl: Any) -> list[tuple[JobSpec, bool]]:
    """Every pending job, each with a spec whose --begin is when its age starts (never, for one not yet eligible),
    and whether it is held: the queue's, the engine's held ones, then those the controller keeps back (an array's
    %limit, dependencies on such tasks, a cluster that no longer fits them)."""
    sched = ctl.sched
    out = [(replace(w.spec, begin_time=eligible(w)), False) for w in sched.queue.items()]
    out += [(replace(w.spec, begin_time=math.inf), w.spec.held) for w in sched.held.values()]
    seen = {s.job_id for s, _ in out}
    for jid, lv in ctl.live.items():
        if jid in seen or jid in sched.running or lv.state != "PENDING":
            continue
        later = lv.spec.held or jid in ctl.deferred
        out.append((replace(lv.spec, begin_time=math.inf) if later else lv.spec, lv.spec.held))
    return out


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

"""How an application's slots are split among its sessions: proportional share by priority, or strict priority.

Proportional (Symphony's default): a session's weight is its priority divided by the number of sessions its
user has open, so each user gets the same share at equal priority however many sessions they open, and a
session of priority 2 gets twice the slots of one of priority 1. Strict priority: higher tiers are served
first; sessions within a tier split by the same weights. Nobody gets more slots than it can use (its demand).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from hal.htc.slots import SlotAsk
from hal.model.resources import Resources


@dataclass(frozen=True, slots=True)
class Claim:
    key: Hashable
    user: str
    priority: int
    demand: int  # slots it could use now: queued + running tasks, capped by the session's slot limit


def _fill(total: int, claims: Sequence[Claim], weights: dict[Hashable, float]) -> dict[Hashable, int]:
    """Water-filling with integer slots: cap by demand, hand out the rest by largest remainder."""
    out = {c.key: 0 for c in claims}
    open_ = [c for c in claims if c.demand > 0]
    left = total
    while open_ and left > 0:
        wsum = sum(weights[c.key] for c in open_)
        capped = [c for c in open_ if c.demand - out[c.key] <= left * weights[c.key] / wsum]
        if not capped:
            break
        for c in capped:
            left -= c.demand - out[c.key]
            out[c.key] = c.demand
        open_ = [c for c in open_ if c not in capped]
    if open_ and left > 0:
        wsum = sum(weights[c.key] for c in open_)
        exact = {c.key: left * weights[c.key] / wsum for c in open_}
        for c in open_:
            out[c.key] += int(exact[c.key])
        rest = left - sum(int(v) for v in exact.values())
        order = sorted(open_, key=lambda c: (-(exact[c.key] - int(exact[c.key])), -c.priority))
        for c in order[:rest]:
            out[c.key] += 1
    return out


def allocate(total: int, claims: Sequence[Claim], policy: str = "proportional") -> dict[Hashable, int]:
    """Slots per claim key; the sum never exceeds ``total`` nor any claim its demand."""
    active = [c for c in claims if c.demand > 0]
    per_user = Counter(c.user for c in active)
    weights: dict[Hashable, float] = {c.key: max(c.priority, 1) / per_user.get(c.user, 1) for c in claims}
    if policy == "proportional":
        return _fill(total, claims, weights)
    if policy != "priority":
        raise ValueError(f"unknown sharing policy {policy!r}")
    out: dict[Hashable, int] = {c.key: 0 for c in claims}
    left = total
    for prio in sorted({c.priority for c in active}, reverse=True):
        tier = [c for c in active if c.priority == prio]
        got = _fill(left, tier, {c.key: 1.0 / per_user[c.user] for c in tier})
        out.update(got)
        left -= sum(got.values())
    return out


def slot_asks(pool: str, per_slot: Resources, policy: str, claims: Sequence[Claim], want: int) -> list[SlotAsk]:
    """Slots per user for a pool: the sharing split of ``want``, so fair share charges the right user; what
    min_instances adds above the demand is charged to the first claim's user."""
    if want <= 0 or not claims:
        return []
    split = allocate(want, claims, policy)
    per_user: dict[str, tuple[int, int]] = {}
    for c in claims:
        n, prio = per_user.get(c.user, (0, 0))
        per_user[c.user] = (n + split.get(c.key, 0), max(prio, c.priority))
    extra = want - sum(n for n, _ in per_user.values())
    if extra > 0:
        n, prio = per_user[claims[0].user]
        per_user[claims[0].user] = (n + extra, prio)
    return [SlotAsk(pool, u, per_slot, n, p) for u, (n, p) in sorted(per_user.items()) if n > 0]

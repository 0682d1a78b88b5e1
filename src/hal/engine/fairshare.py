"""Usage charged to users and accounts, decayed with a half-life, and Slurm's classic fair-share factor."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class UsageLedger:
    """Decayed cpu-seconds per user; decay is applied lazily when a value is read or charged."""

    half_life: float = 7 * 86400.0
    _value: dict[str, float] = field(default_factory=dict)
    _stamp: dict[str, float] = field(default_factory=dict)

    def _decay(self, key: str, now: float) -> float:
        value = self._value.get(key, 0.0)
        if value == 0.0:
            return 0.0
        dt = now - self._stamp.get(key, now)
        if dt > 0 and self.half_life > 0:
            value *= math.pow(2.0, -dt / self.half_life)
        return value

    def charge(self, key: str, cpu_seconds: float, now: float) -> None:
        """Add ``cpu_seconds`` used at ``now``; from then on they decay like the rest. A charge dated before the
        key's last one (an end reported late) is added as decayed since then; a negative one (a refund) never
        takes the usage below 0."""
        stamp = self._stamp.get(key, now)
        if now < stamp:
            if self.half_life > 0:
                cpu_seconds *= math.pow(2.0, -(stamp - now) / self.half_life)
            self._value[key] = max(self._value.get(key, 0.0) + cpu_seconds, 0.0)
            return
        self._value[key] = max(self._decay(key, now) + cpu_seconds, 0.0)
        self._stamp[key] = now

    def usage(self, now: float) -> dict[str, float]:
        return {k: self._decay(k, now) for k in self._value}

    def copy(self) -> UsageLedger:
        """An independent ledger with the same charges (what-if runs must not charge the real one)."""
        return UsageLedger(self.half_life, dict(self._value), dict(self._stamp))


def fairshare_factor(usage: float, total_usage: float, shares: float) -> float:
    """Slurm's classic factor 2^(-U/S): 1 for an idle user, 0.5 at exactly the fair share."""
    if total_usage <= 0.0:
        return 1.0
    normalized = usage / total_usage
    return math.pow(2.0, -normalized / max(shares, 1e-9))


def decayed_usage(ledger: UsageLedger, now: float) -> dict[str, float]:
    """``ledger.usage(now)`` over whole arrays (it runs every dynamic cycle, for every user ever charged).

    Equal to the ledger's own decay up to the last bit of a power of two (numpy's exp2 vs math.pow).
    """
    value, stamp, half = ledger._value, ledger._stamp, ledger.half_life
    n = len(value)
    if n < 64 or half <= 0 or len(stamp) != n:  # charge() inserts a user in both dicts at once
        return ledger.usage(now)
    v = np.fromiter(value.values(), np.float64, n)
    dt = now - np.fromiter(stamp.values(), np.float64, n)
    decayed = np.where(dt > 0, v * np.exp2(-dt / half), v)
    return dict(zip(value, decayed.tolist(), strict=True))

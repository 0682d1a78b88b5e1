"""The usage ledger decays with its half-life; the fair-share factor is Slurm's classic 2^(-U/S)."""

from __future__ import annotations

import pytest

from hal.engine.fairshare import UsageLedger, fairshare_factor

DAY = 86400.0


def test_usage_halves_every_half_life() -> None:
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("alice", 1000.0, now=0.0)
    assert ledger.usage(0.0) == {"alice": 1000.0}
    assert ledger.usage(DAY)["alice"] == pytest.approx(500.0)
    assert ledger.usage(3 * DAY)["alice"] == pytest.approx(125.0)


def test_charges_add_to_the_decayed_value() -> None:
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("bob", 800.0, now=0.0)
    ledger.charge("bob", 100.0, now=DAY)  # 400 left + 100
    assert ledger.usage(DAY)["bob"] == pytest.approx(500.0)
    assert ledger.usage(2 * DAY)["bob"] == pytest.approx(250.0)


def test_reading_does_not_decay_twice() -> None:
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("c", 64.0, 0.0)
    for t in (DAY / 4, DAY / 2, DAY):
        ledger.usage(t)
    assert ledger.usage(2 * DAY)["c"] == pytest.approx(16.0)


def test_no_decay_without_half_life_or_backwards_in_time() -> None:
    ledger = UsageLedger(half_life=0.0)
    ledger.charge("d", 10.0, 0.0)
    assert ledger.usage(10 * DAY)["d"] == 10.0
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("d", 10.0, 100.0)
    assert ledger.usage(50.0)["d"] == 10.0


def test_users_decay_independently() -> None:
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("a", 100.0, 0.0)
    ledger.charge("b", 100.0, DAY)
    usage = ledger.usage(DAY)
    assert usage["a"] == pytest.approx(50.0) and usage["b"] == pytest.approx(100.0)


def test_fairshare_factor() -> None:
    assert fairshare_factor(0.0, 0.0, 0.5) == 1.0  # nobody used anything
    assert fairshare_factor(0.0, 100.0, 0.5) == 1.0  # an idle user
    assert fairshare_factor(50.0, 100.0, 0.5) == pytest.approx(0.5)  # exactly the fair share
    assert fairshare_factor(100.0, 100.0, 0.5) == pytest.approx(0.25)  # twice the share
    assert fairshare_factor(10.0, 100.0, 0.0) == pytest.approx(0.0)  # no shares: priority vanishes

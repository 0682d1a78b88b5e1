"""QA (HIGH): fair share charged a job only when it ended, so a user running jobs for hours looked idle. Usage now
accrues as the jobs run (engine/accrual.py): every ``charge_period`` the running jobs are charged their time since
the last charge, at the end only the rest; in all ``runtime * procs``, once."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.engine.accrual import current_usage
from hal.engine.capacity import PoolBook
from hal.engine.cycle import Scheduler
from hal.engine.fairshare import UsageLedger
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace

DAY = 86400.0


def scheduler(procs: int = 8, **profile: Any) -> Scheduler:
    return Scheduler(PoolBook((procs, 0, 0)), ResourceSpace(), Profile(**profile), UserEstimate())


def spec(jid: int, procs: int = 2, user: str = "alice", limit: float = 10 * DAY, submit: float = 0.0) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, tasks=procs, time_limit=limit, user=user, account="physics")


def started(s: Scheduler, job: JobSpec, now: float) -> None:
    s.submit(job, now)
    assert [p.job_id for p in s.cycle(now).starts] == [job.job_id]


def decay(dt: float, half: float = DAY) -> float:
    return math.pow(2.0, -dt / half)


def test_a_running_job_accrues_usage_every_charge_period() -> None:
    s = scheduler(charge_period=300.0, half_life=1e12, order="multifactor")  # as good as no decay: plain sums
    started(s, spec(1, procs=2), 0.0)
    seen = []
    for t in range(100, 1001, 100):
        s.cycle(float(t))
        seen.append(s.ledger.usage(float(t)).get("alice", 0.0))
    # charged at the cycles a period after the last charge: 300, 600, 900 (the first cycle at 0 charged nothing)
    assert seen == pytest.approx([0, 0, 600, 600, 600, 1200, 1200, 1200, 1800, 1800])
    assert s.ctx.usage == {}  # the order reads usage only with a queue (below: it does)
    s.submit(spec(2, procs=8, user="bob"), 1000.0)  # waits: the machine is busy
    s.cycle(1200.0)
    assert s.ctx.usage["alice"] == pytest.approx(2400.0)  # what the multifactor order weighs while alice runs
    assert current_usage(s, 1250.0)["alice"] == pytest.approx(2500.0)  # and what `hal shares` shows, up to now


def test_finishing_charges_only_the_rest_and_the_total_is_runtime_times_procs() -> None:
    s = scheduler(charge_period=0.0, half_life=DAY)
    started(s, spec(1, procs=4), 0.0)
    for t in (10.0, 25.0, 70.0):
        s.cycle(t)
    before = s.ledger.usage(100.0)["alice"]
    s.finish(1, 100.0)
    assert s.ledger.usage(100.0)["alice"] == pytest.approx(before + 30.0 * 4)  # only the 30 s since the last charge
    s.cycle(200.0)  # ended: never charged again
    s.cycle(5000.0)
    # each piece decayed from when it was charged; undecayed they add up to 100 s x 4
    pieces = [(10.0, 10.0), (15.0, 25.0), (45.0, 70.0), (30.0, 100.0)]
    assert s.ledger.usage(5000.0)["alice"] == pytest.approx(sum(4 * d * decay(5000.0 - t) for d, t in pieces))
    assert sum(4 * d for d, _ in pieces) == 400.0


def test_a_job_ending_before_a_charge_is_charged_once_at_its_end_as_before() -> None:
    s = scheduler(half_life=DAY)  # Slurm's 5-minute period
    started(s, spec(1, procs=3), 0.0)
    s.cycle(200.0)  # no charge due yet
    s.finish(1, 250.0)
    assert s.ledger.usage(DAY)["alice"] == pytest.approx(3 * 250.0 * decay(DAY - 250.0))  # the old single charge


def test_a_job_that_never_ran_is_refunded_what_it_was_charged() -> None:
    """A failed stage-in ends ``ran=False``: charged nothing, as before; the user's other usage is untouched."""
    s = scheduler(charge_period=0.0)
    s.accounts = UsageLedger(s.ledger.half_life)
    started(s, spec(1, procs=2), 0.0)
    s.finish(1, 3600.0)  # ran: 7200 cpu-seconds, charged at its end
    alone, account = s.ledger.usage(DAY)["alice"], s.accounts.usage(DAY)["physics"]
    started(s, spec(2, procs=4), 3600.0)
    for t in (4000.0, 9000.0, 20000.0):
        s.cycle(t)
    assert s.ledger.usage(20000.0)["alice"] > 60000.0  # 4 x 16400 s charged while its inputs were "staged"
    s.finish(2, 30000.0, ok=False, ran=False)
    assert s.ledger.usage(DAY)["alice"] == pytest.approx(alone, rel=1e-12)
    assert s.accounts.usage(DAY)["physics"] == pytest.approx(account, rel=1e-12)


def test_the_accounts_ledger_is_charged_by_the_cpus_held() -> None:
    s = scheduler(charge_period=60.0, half_life=1e12)
    s.accounts = UsageLedger(s.ledger.half_life)
    started(s, spec(1, procs=2), 0.0)
    s.cycle(120.0)
    assert s.accounts.usage(120.0) == pytest.approx({"physics": 240.0})
    assert current_usage(s, 150.0, accounts=True) == pytest.approx({"physics": 300.0})
    s.finish(1, 150.0)
    assert s.accounts.usage(150.0) == pytest.approx({"physics": 300.0})


def test_what_if_copies_charge_neither_ledger() -> None:
    s = scheduler(charge_period=0.0)
    s.accounts = UsageLedger(s.ledger.half_life)
    started(s, spec(1, procs=2), 0.0)
    twin = s.clone()
    twin.cycle(1000.0)
    twin.finish(1, 2000.0)
    assert twin.ledger.usage(2000.0)["alice"] == pytest.approx(4000.0, rel=1e-3)
    assert s.ledger.usage(2000.0) == {} and s.accounts.usage(2000.0) == {}
    assert twin.accounts is None


def test_a_charge_dated_before_the_last_one_decays_from_its_own_time() -> None:
    ledger = UsageLedger(half_life=DAY)
    ledger.charge("a", 100.0, DAY)
    ledger.charge("a", 50.0, 0.0)  # an end reported late
    assert ledger.usage(2 * DAY)["a"] == pytest.approx(50.0 + 12.5)
    ledger.charge("a", -1000.0, 2 * DAY)  # a refund never goes below nothing
    assert ledger.usage(2 * DAY)["a"] == 0.0


def test_the_profile_checks_the_charge_period() -> None:
    assert Profile().charge_period == 300.0
    assert Profile.from_toml("charge_period = 0\n").charge_period == 0
    for bad in (-1.0, math.inf, True, "5m"):
        with pytest.raises(ValueError, match="charge_period must be a number of seconds >= 0"):
            Profile(charge_period=bad)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(
    cycles=st.lists(st.floats(0.0, 5000.0, allow_nan=False), max_size=30),
    period=st.sampled_from([0.0, 1.0, 60.0, 300.0, 1e4]),
    runtime=st.floats(0.0, 5000.0, allow_nan=False),
    procs=st.integers(1, 8),
    start=st.floats(0.0, 2e9, allow_nan=False),
)
def test_any_cycle_times_charge_runtime_times_procs_undecayed(
    cycles: list[float], period: float, runtime: float, procs: int, start: float
) -> None:
    s = scheduler(charge_period=period)
    s.ledger = UsageLedger(half_life=0.0)  # no decay: what was charged, summed
    started(s, spec(1, procs=procs, submit=start), start)
    end = start + runtime
    for t in sorted(c for c in cycles if c < runtime):
        s.cycle(start + t)
    s.finish(1, end)
    s.cycle(end + 1e4)
    assert s.ledger.usage(end + 1e4)["alice"] == pytest.approx((end - start) * procs, rel=1e-9, abs=1e-6)

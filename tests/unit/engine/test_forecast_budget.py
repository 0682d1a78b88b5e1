"""Start forecasts on large queues and small samples: the work budget (fewer members, then a horizon), plans
shared between bases, a halt from outside, and a p90 no earlier than the plan on requests while few errors
are known. Every forecast here is a real one (forward runs of a real scheduler)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hal.engine import forecast as forecast_module
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster, StartEstimate, forward_starts
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for
from tests.unit.controller.test_startboard import Limits  # user estimates: point = upper = request = the limit
from tests.unit.engine.test_forecast import busy


def queue(n: int) -> Scheduler:
    """8 CPUs, a 4-CPU job running; ``n`` 1-CPU jobs of 10 to 50 minutes waiting (multifactor, EASY)."""
    book, space = pool_for(8)
    s = Scheduler(book, space, Profile(order="multifactor"), Limits())
    s.submit(JobSpec(1, 0.0, tasks=4, time_limit=3000.0), 0.0)
    s.cycle(0.0)
    for j in range(2, n + 2):
        s.submit(JobSpec(j, 1.0, tasks=1, time_limit=600.0 * (1 + j % 5), user=f"u{j % 3}"), 1.0)
    s.cycle(1.0)
    return s


def learned(f: Forecaster, n: int = 60) -> Forecaster:
    for i in range(n):
        # runs take 1/3 to 1.6x their prediction, in no order (a rising series is a change: error_shift.py)
        f.observe(1800.0, 600.0 + 40.0 * (7 * i % n), f"u{i % 3}")
    return f


def spied(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The work each ensemble member spent (one entry per member run)."""
    spent: list[float] = []
    real = forecast_module.what_if

    def member(*args: Any, **kw: Any) -> dict[int, float]:
        got = real(*args, **kw)
        budget = args[6] if len(args) > 6 else kw.get("budget")
        spent.append(budget.used if budget is not None else math.nan)
        return got

    monkeypatch.setattr(forecast_module, "what_if", member)
    return spent


def pairs(est: dict[int, StartEstimate]) -> dict[int, tuple[float, float]]:
    return {j: (e.p50, e.p90) for j, e in est.items()}


def test_a_budget_the_forecast_fits_in_changes_nothing() -> None:
    s = queue(60)
    free = learned(Forecaster(members=10)).starts(s, 1.0)
    bounded = learned(Forecaster(members=10, work=1e9))
    assert pairs(bounded.starts(s, 1.0)) == pairs(free) and bounded.reach == math.inf
    assert len(free) == len(s.queue) and all(math.isfinite(e.p50) for e in free.values())


def test_a_tight_budget_keeps_fewer_members_and_their_total_within_it(monkeypatch: pytest.MonkeyPatch) -> None:
    s = queue(60)
    spent = spied(monkeypatch)
    whole = learned(Forecaster(members=10)).starts(s, 1.0)
    one = spent[0]  # what the first member costs (the same draws in every forecaster below: same seed)
    spent.clear()
    f = learned(Forecaster(members=10, work=6.5 * one))  # the plan on requests beside them takes about one
    got = f.starts(s, 1.0)
    assert len(spent) == 5 and sum(spent) <= 5.5 * one  # 5 members fit, all of them complete
    assert f.reach == math.inf and set(got) == set(whole) and all(math.isfinite(e.p50) for e in got.values())
    spent.clear()
    f = learned(Forecaster(members=10, work=2.0 * one))
    f.starts(s, 1.0)
    assert len(spent) == 3  # never fewer than MIN_MEMBERS: a p50 and p90 of 3 draws


def test_a_budget_too_small_for_one_member_forecasts_up_to_a_horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    s = queue(300)
    spent = spied(monkeypatch)
    whole = learned(Forecaster(members=10)).starts(s, 1.0)
    spent.clear()
    f = learned(Forecaster(members=10, work=60_000))
    got = f.starts(s, 1.0)
    assert len(spent) == forecast_module.MIN_MEMBERS and sum(spent) <= 60_000
    assert 1.0 < f.reach < max(e.p50 for e in whole.values())  # cut: the later starts are unknown
    assert got and len(got) < len(whole)  # jobs past the horizon are left out (the planner's plan stands)
    assert all(math.isfinite(e.p50) and e.p50 <= e.p90 for e in got.values())  # a p90 past it: inf (N/A)
    assert min(got, key=lambda j: got[j].p50) == min(whole, key=lambda j: whole[j].p50)  # the first ones stay


def test_a_budget_bounds_the_planned_runs_too() -> None:
    s = queue(300)
    f = Forecaster(members=10, work=30_000)  # no errors known: planned runs
    got = f.starts(s, 1.0)
    assert math.isfinite(f.reach) and got and len(got) < 300
    assert all(e.p50 <= f.reach for e in got.values())


def test_plans_that_are_the_same_are_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """On user estimates point, upper and request plans are all the limits: one forward run serves them."""
    from hal.engine import forward as forward_module

    s = queue(40)
    runs = []
    real = forward_module._run

    def counted(*args: Any, **kw: Any) -> dict[int, float]:
        runs.append(1)
        return real(*args, **kw)

    expected = [forward_starts(s, 1.0, b) for b in ("point", "upper", "request")]
    monkeypatch.setattr(forward_module, "_run", counted)
    got, reach, _ = forward_module.planned_starts(s, 1.0, ("point", "upper", "request"), set(range(2, 42)))
    assert got == expected and len(runs) == 1 and reach == math.inf
    s2, _ = busy(Profile())  # predictions that differ from the limits: three runs
    runs.clear()
    forward_module.planned_starts(s2, 7.0, ("point", "upper", "request"), {2, 3, 4, 5})
    assert len(runs) == 3


def test_a_halt_stops_a_forecast_within_a_cycle() -> None:
    from hal.engine.forward import Halted

    class Flag:
        def __init__(self) -> None:
            self.cycles = 0

        def is_set(self) -> bool:
            self.cycles += 1
            return self.cycles > 5  # set after five cycles

    s = queue(300)
    flag = Flag()
    with pytest.raises(Halted):
        learned(Forecaster(members=10, halt=flag)).starts(s, 1.0)
    assert flag.cycles == 6  # looked at before every cycle, and nothing ran after it was set


def test_few_errors_put_p90_no_earlier_than_the_plan_on_requests() -> None:
    """QA: 3 recorded errors, and a p90 14 s after the p50 while the job blocking it was planned to its limit.
    Until 30 forecasts were scored (and 50 errors seen), p90 is at least the start planned on requests."""
    s, _ = busy(Profile())
    requests = forward_starts(s, 7.0, "request")
    bare = Forecaster().starts(s, 7.0)
    assert bare[2].p90 == 150.0  # the upper plan: job 1, predicted 100-150 s, may run to its 1,000 s limit
    floored = Forecaster(floor_until=30).starts(s, 7.0)
    assert floored[2].p50 == 100.0 and floored[2].p90 == requests[2] == 1000.0
    assert all(floored[j].p90 == max(bare[j].p90, requests[j]) and floored[j].p50 == bare[j].p50 for j in bare)


def test_the_floor_stays_until_enough_forecasts_were_scored() -> None:
    s, _ = busy(Profile())
    requests = forward_starts(s, 7.0, "request")

    def forecaster(ratios: int, scores: int, floor: int) -> Forecaster:
        f = Forecaster(members=9, by_user=0, floor_until=floor)
        for k in range(ratios):
            f.observe(100.0, 50.0 + 2.0 * k)
        f.scores.extend([1.0] * scores)
        return f

    plain = forecaster(100, 0, 0).starts(s, 7.0)
    unsure = forecaster(100, 29, 30)
    assert unsure.unsure()
    got = unsure.starts(s, 7.0)
    assert all(got[j].p50 == plain[j].p50 and got[j].p90 == max(plain[j].p90, requests[j]) for j in plain)
    assert any(got[j].p90 > plain[j].p90 for j in plain)
    sure = forecaster(100, 30, 30)
    assert not sure.unsure() and pairs(sure.starts(s, 7.0)) == pairs(forecaster(100, 30, 0).starts(s, 7.0))
    assert forecaster(40, 30, 30).unsure()  # too few runtime errors for an ensemble: still floored


def test_the_servers_forecaster_floors_and_has_a_budget() -> None:
    from hal.controller import startboard

    board = startboard.StartBoard()
    s, _ = busy(Profile())
    assert board.forecaster.starts(s, 7.0)[2].p90 == 1000.0  # no errors known: the plan on requests (was 150)
    assert board.forecaster.floor_until == startboard.MIN_SCORES == board.forecaster.min_bin
    assert board.forecaster.work == startboard.WORK
    fork = board.forecaster.fork()
    assert fork.floor_until == startboard.MIN_SCORES and fork.work == startboard.WORK  # `submit --test-only` too


def test_a_first_forecast_without_a_p90_is_not_kept_as_the_one_scored() -> None:
    """A job past a cut forecast's horizon has no p90; its score comes from the first forecast that had one (and
    a plan on requests, the other end of the scale it is scored on)."""
    f = Forecaster()
    f.calibrated(0.0, {7: StartEstimate(7, math.inf, math.inf)})
    f.calibrated(2.0, {7: StartEstimate(7, 8.0, 10.0)})
    f.calibrated(5.0, {7: StartEstimate(7, 8.0, 10.0, 20.0)})
    f.started(7, 15.0)
    assert list(f.scores) == [0.5]  # half of the way from its p90 (10) to its plan on requests (20)

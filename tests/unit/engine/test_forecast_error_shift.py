"""A user whose runs changed is forecast from the errors since the change, not from the 16 before it.

The predictor may follow the change slowly (user estimates never do; gbm may keep choosing the request): a user
whose hour-long runs began to crash after 30 s keeps erring the new way, while the forecaster's window holds 13
errors of the old runs for 13 more completions. Real components: the scheduler, the forecaster, user estimates.
"""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from hal.engine.cycle import Scheduler
from hal.engine.error_shift import SHIFT, recent_errors
from hal.engine.forecast import Forecaster
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


def crashed(crashes: int) -> tuple[Scheduler, Forecaster, float]:
    """16 of alice's runs of ~50 minutes (limit an hour), then ``crashes`` of 30 s; then one more of hers runs on
    the one CPU and bob's job (99) waits behind it."""
    s = Scheduler(*pool_for(1), Profile(), UserEstimate())
    f = Forecaster(members=20)
    for _ in range(f.min_ratios):  # other users' errors: past the forecaster's cold start
        f.observe(3600.0, 600.0, "others")
    t = 0.0
    runs = [3000.0 + 10.0 * (i % 5) for i in range(16)] + [30.0 + i for i in range(crashes)]
    for jid, run in enumerate(runs, start=1):
        s.submit(JobSpec(jid, t, time_limit=3600.0, user="alice"), t)
        s.cycle(t)
        predicted, t = s.running[jid].item.estimate, t + run
        f.observe(predicted, run, "alice")
        s.finish(jid, t)
    s.submit(JobSpec(98, t, time_limit=3600.0, user="alice"), t)
    s.cycle(t)
    s.submit(JobSpec(99, t, time_limit=3600.0, user="bob"), t)
    s.cycle(t)
    return s, f, t


def test_a_user_whose_runs_began_to_crash_is_forecast_by_the_crashes() -> None:
    s, f, now = crashed(SHIFT)
    wait = f.starts(s, now)[99].p50 - now
    assert wait <= 60.0, wait  # alice's running job crashes like her last three: bob starts within a minute


def test_one_crash_among_long_runs_does_not_shift_the_forecast() -> None:
    s, f, now = crashed(1)  # one crash may be chance: her runs are still drawn from all 17 errors
    assert f.starts(s, now)[99].p50 - now >= 2000.0


def test_ties_at_the_one_second_floor_do_not_hide_a_change() -> None:
    # QA: runs under 1 s share one ratio, so an early crash among the older runs tied with the three new ones
    assert list(recent_errors([0.1] + [0.8] * 12 + [0.1] * 3)) == [0.1] * 3
    assert len(recent_errors([1.0] * 15 + [0.01])) == 16  # runs all at their limit keep them after one crash
    assert len(recent_errors([1.0] * 13 + [0.01] * 3)) == 3


@given(st.lists(st.sampled_from([0.01, 0.1, 0.5, 1.0, 2.0, 30.0]) | st.floats(0.01, 100.0), min_size=1, max_size=16))
def test_recent_errors_keep_everything_unless_the_newest_lie_beyond_the_rest(ratios: list[float]) -> None:
    got = recent_errors(ratios)
    old, new = ratios[:-SHIFT], ratios[-SHIFT:]
    shifted = False
    if len(ratios) > SHIFT:
        mid = statistics.median(old)
        high = min(new) >= max(old) and min(new) > mid
        low = max(new) <= min(old) and max(new) < mid
        shifted = high or low
    assert list(got) == sorted(new if shifted else ratios)

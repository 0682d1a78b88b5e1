"""A p90 the ensemble has is not lost when the plan on requests (the far end of the p90's calibration scale) was
cut by the work budget before the job: review of 7c34086, where the plan on requests took a quarter of the
budget and stopped short, and `hal queue --start` showed N/A for p90s the ensemble had (raw + q x inf). Every
forecast here is a real one (forward runs of a real scheduler)."""

from __future__ import annotations

import math

import pytest

from hal.engine.forecast import Forecaster, StartEstimate, forward_starts
from tests.unit.engine.test_forecast_budget import learned, queue

TIGHT = 70_000  # the plan on requests stops before jobs that most members start (300 jobs queued)


def forecaster(floor_until: int, scores: float | None) -> Forecaster:
    f = learned(Forecaster(members=10, work=TIGHT, floor_until=floor_until))
    if scores is not None:
        f.scores.extend([scores] * 30)
    return f


@pytest.mark.parametrize(
    ("floor_until", "scores"), [(30, None), (0, 1.0), (0, 0.5), (0, 2.0)], ids=["unsure", "q1", "q0.5", "q2"]
)
def test_a_p90_past_the_cut_plan_on_requests_stays_finite(floor_until: int, scores: float | None) -> None:
    s = queue(300)
    raw = forecaster(floor_until, scores).ensemble(s, 1.0)
    f = forecaster(floor_until, scores)  # the same draws (same seed)
    got = f.starts(s, 1.0)
    assert math.isfinite(f.reach)  # the budget cut the forecast
    cut = [j for j, e in raw.items() if math.isfinite(e.p90) and not math.isfinite(e.requests)]
    assert cut, "no job the members reached past the plan's cut: the budget no longer exercises the case"
    whole = forward_starts(s, 1.0, "request")  # the plan on requests without a budget
    for j in cut:
        assert j in got and math.isfinite(got[j].p90), (j, raw[j], got.get(j))  # was inf (N/A)
        assert got[j].p90 >= max(raw[j].p90, got[j].p50)
        if scores is None or scores >= 1.0:  # at or past the plan: at least its cut, a lower bound of the plan
            assert math.isfinite(f.planned) and f.planned <= min(got[j].p90, whole[j])
    for j, e in got.items():  # no ensemble p90: still none (the members did not start it)
        if not math.isfinite(raw[j].p90):
            assert not math.isfinite(e.p90)


def test_without_a_plan_on_requests_the_scale_runs_on_ensemble_waits() -> None:
    """No plan on requests and no cut (e.g. past a caller's horizon): the plan's end of the scale is the
    ensemble's p90, and past it p90s go in ensemble waits, as for any job."""
    f = Forecaster()
    f.scores.extend([2.0] * 30)
    got = f.calibrated(0.0, {7: StartEstimate(7, 80.0, 100.0), 8: StartEstimate(8, 5.0, 10.0)})
    assert got[7].p90 == 200.0 and got[8].p90 == 70.0  # 1 wait past p90 (at least MIN_WAIT, 60 s)
    assert f.calibrated(0.0, {9: StartEstimate(9, 5.0, math.inf)})[9].p90 == math.inf  # the members never start it

"""QA: --stretch-factors took nan and inf (a job lost without a count, a start at t=inf, a run that hung) and
named the wrong option in its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hal.sim.metrics import summarize
from hal.sim.simulator import Outcome
from hal.sim.stretch import StretchModel, multipliers_given, parse_stretch


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("heavy=nan,share=1", "--stretch-factors heavy=nan: 'nan' is not a finite number"),
        ("heavy=inf", "--stretch-factors heavy=inf: 'inf' is not a finite number"),
        ("light=0.1/-inf", "'-inf' is not a finite number"),
        ("share=nan", "--stretch-factors share=nan: 'nan' is not a finite number"),
        ("heavy=-0.1", "--stretch-factors heavy=-0.1: a factor is the share a job runs longer"),
        ("heavy=1e300", "from 0 to 100"),
        ("share=2", "share=2: the share of communication-heavy jobs is from 0 to 1"),
        ("bogus", "--stretch-factors 'bogus': give heavy="),
        ("heavy=", "--stretch-factors heavy='': give a number"),
        ("heavy=0.1,heavy=0.2", "--stretch-factors 'heavy=0.1,heavy=0.2' gives heavy twice"),
    ],
)
def test_bad_factors_are_refused_naming_the_option(spec: str, said: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_stretch(spec)
    assert said in str(exc.value)


def test_a_model_built_in_code_refuses_non_finite_factors_too() -> None:
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            StretchModel(heavy=(bad,))
        with pytest.raises(ValueError, match="from 0 to 1"):
            StretchModel(heavy_share=bad)
    assert parse_stretch("heavy=0.2/0.5,light=0,share=1") == StretchModel((0.2, 0.5), (0.0,), 1.0)


def test_no_multiplier_note_for_values_that_are_refused() -> None:
    assert not multipliers_given("heavy=inf") and not multipliers_given("heavy=nan")
    assert multipliers_given("heavy=1.2")


def test_utilization_counts_the_trace_work_and_allocated_the_machine_held() -> None:
    """QA: --whole-nodes raised 'util' (it counted whole nodes) while the work done fell."""
    out = Outcome(
        job_id=np.array([1, 2]), submit=np.zeros(2), start=np.array([0.0, 0.0]), end=np.array([100.0, 100.0]),
        run=np.array([100.0, 100.0]), procs=np.array([4, 4]), estimate=np.full(2, 100.0),
        backfilled=np.zeros(2, dtype=bool), capacity=8,
    )  # fmt: skip
    pool = summarize(out)
    assert pool.utilization == pytest.approx(1.0) and pool.allocated_utilization == pytest.approx(1.0)
    whole = summarize(out, work=np.array([1, 3]))  # the trace's processors: 1 and 3 on a node of 4 each
    assert whole.utilization == pytest.approx(0.5) and whole.allocated_utilization == pytest.approx(1.0)

"""Runtime predictors (user estimate, clairvoyant, Tsafrir's last-two) and the overrun correction rule."""

from __future__ import annotations

import itertools

import pytest

from hal.engine.api import Estimate, RuntimePredictor
from hal.engine.predict.basic import DEFAULT_LIMIT, Clairvoyant, LastTwo, UserEstimate
from hal.engine.predict.correct import LADDER, extend
from hal.engine.predict.registry import make_predictor
from hal.model.job import JobSpec

IDS = itertools.count(1)


def spec(limit: float | None = None, user: str = "alice", runtime: float | None = None) -> JobSpec:
    """A new job each call: a job predicted again is predicted from what was known at its submission."""
    return JobSpec(job_id=next(IDS), submit_time=0, time_limit=limit, user=user, runtime=runtime)


def test_user_estimate_is_the_limit() -> None:
    assert UserEstimate().predict(spec(600)) == Estimate(600, 600)
    assert UserEstimate().predict(spec(None)) == Estimate(DEFAULT_LIMIT, DEFAULT_LIMIT)


def test_clairvoyant_needs_the_real_runtime() -> None:
    assert Clairvoyant().predict(spec(600, runtime=42)) == Estimate(42, 42)
    with pytest.raises(ValueError, match="needs the real runtime"):
        Clairvoyant().predict(spec(600))


def test_last_two_cold_start_uses_the_limit_or_the_default() -> None:
    p = LastTwo()
    assert p.predict(spec(900)) == Estimate(900, 900)
    assert p.predict(spec(None)) == Estimate(DEFAULT_LIMIT, DEFAULT_LIMIT)
    assert p.predict(spec(0)) == Estimate(DEFAULT_LIMIT, DEFAULT_LIMIT)  # a zero limit is no information


def test_last_two_averages_the_users_last_two_runs() -> None:
    p = LastTwo()
    for run in (1000.0, 100.0, 300.0):
        p.observe(spec(5000), run, end_time=0)
    assert p.predict(spec(5000)) == Estimate(200.0, 5000.0)  # (100 + 300) / 2; upper = the limit
    assert p.predict(spec(None)) == Estimate(200.0, 300.0)  # without a limit the upper is the longest seen
    assert p.predict(spec(5000, user="bob")) == Estimate(5000, 5000)  # history is per user


def test_last_two_is_capped_at_the_limit_and_at_least_one_second() -> None:
    p = LastTwo()
    p.observe(spec(), 800.0, 0)
    p.observe(spec(), 1200.0, 0)
    assert p.predict(spec(600)) == Estimate(600.0, 600.0)
    q = LastTwo()
    q.observe(spec(), 0.0, 0)
    assert q.predict(spec(100)) == Estimate(1.0, 100.0)


def test_registry() -> None:
    for name, cls in (("user", UserEstimate), ("actual", Clairvoyant), ("last2", LastTwo)):
        predictor = make_predictor(name)
        assert isinstance(predictor, cls) and isinstance(predictor, RuntimePredictor)
    assert make_predictor("last2") is not make_predictor("last2")  # fresh state per run
    with pytest.raises(ValueError, match=r"unknown estimate 'oracle'; choose one of \["):
        make_predictor("oracle")


def test_reqtime_correction_jumps_to_the_limit_then_climbs_the_ladder() -> None:
    assert extend(100.0, 3600.0) == 3600.0
    assert extend(3600.0, 3600.0) == 7200.0  # at the limit already: next ladder step
    assert extend(50.0, None) == 60.0
    assert extend(0.0, 0.0) == 60.0


def test_ladder_and_double_rules() -> None:
    assert extend(100.0, 3600.0, "ladder") == 300.0
    assert extend(LADDER[-1], None, "ladder") == 2 * LADDER[-1]
    assert extend(100.0, 3600.0, "double") == 200.0
    assert extend(0.0, None, "double") == 1.0


def test_growing_rules_stop_at_the_limit_until_the_job_outlives_it() -> None:
    """Tsafrir's incremental correction never predicts past the request while the job is within it."""
    assert extend(1000.0, 1200.0, "ladder") == 1200.0  # the next step (1800) would pass the limit
    assert extend(1000.0, 1500.0, "double") == 1500.0
    assert extend(1200.0, 1200.0, "ladder") == 1800.0  # over its limit: climbs on
    assert extend(1500.0, 1500.0, "double") == 3000.0
    with pytest.raises(ValueError, match="unknown correction rule 'halve'"):
        extend(1.0, None, "halve")


@pytest.mark.parametrize("rule", ["reqtime", "ladder", "double"])
@pytest.mark.parametrize("elapsed", [0.0, 1.0, 59.0, 60.0, 3599.0, 3600.0, 1e6])
@pytest.mark.parametrize("limit", [None, 0.0, 60.0, 3600.0])
def test_correction_always_moves_past_the_elapsed_time(rule: str, elapsed: float, limit: float | None) -> None:
    assert extend(elapsed, limit, rule) > elapsed


def test_a_job_without_a_request_is_not_capped_at_a_stand_in() -> None:
    """QA: without a request every candidate was capped at 3,600 s, so jobs of 1-4 h were all under-predicted."""
    from hal.engine.predict.features import History, log_time

    h = History()
    for i in range(6):
        job = JobSpec(i, float(i), user="u")
        h.submitted(job)
        h.finished(job, 4 * 3600.0, float(i) + 1)
    late = JobSpec(9, 100.0, user="u")
    cands = History.candidates(h.row(late), late.requested)
    assert min(cands) == max(cands) == log_time(4 * 3600.0)  # the user's own runs, not 3,600 s
    assert max(History.candidates(h.row(late), 600.0)) == log_time(600.0)  # a request still caps them


def test_last_two_predicts_a_job_again_from_the_runs_known_at_its_submission() -> None:
    """A restarted controller predicts its queued jobs again: from runs that ended since, twins held across the
    restart were planned 2 s and 15 s (QA). Once the job ends or is forgotten, its id is predicted afresh."""
    p = LastTwo()
    p.observe(spec(), 2.0, 10.0)
    held = spec(600)
    assert p.predict(held).point == 2.0
    p.observe(spec(), 15.0, 20.0)
    p.observe(spec(), 15.0, 30.0)
    assert p.predict(held).point == 2.0 and p.predict(spec(600)).point == 15.0
    p.forget(held.job_id)
    assert p.predict(held).point == 15.0

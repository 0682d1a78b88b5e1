"""A prediction that rests on the request says so (``on_request``): last2's before any run of the job's user was
learned, and gbm's for such a user whether or not it has a model yet (a model has only the request to go on).
Start forecasts leave those runs out of the errors they draw from (QA: a first run predicted at its 30-minute limit
taught a ratio of 0.011)."""

from __future__ import annotations

from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor
from hal.model.job import JobSpec
from tests.unit.sim.test_unfitted_gbm import warmed_up_after_the_last_prediction


def test_last2_says_which_predictions_were_its_requests() -> None:
    last2 = LastTwo()
    early = JobSpec(1, 100.0, time_limit=1800.0, user="ada")
    assert last2.predict(early).point == 1800.0 and last2.on_request(early)
    last2.observe(early, 20.0, 120.0)
    late, other = JobSpec(2, 130.0, time_limit=1800.0, user="ada"), JobSpec(3, 130.0, time_limit=60.0, user="bo")
    assert last2.predict(late).point == 20.0 and not last2.on_request(late)
    assert last2.on_request(JobSpec(4, 110.0, time_limit=1800.0, user="ada"))  # submitted before that run ended
    assert last2.on_request(other)


def test_gbm_says_so_while_it_predicts_through_last2() -> None:
    gbm = GbmPredictor()
    first = JobSpec(1, 100.0, time_limit=1800.0, user="ada")
    assert gbm.predict(first).point == 1800.0 and gbm.on_request(first)
    gbm.observe(first, 20.0, 120.0)
    second = JobSpec(2, 130.0, time_limit=1800.0, user="ada")
    assert gbm.predict(second).point == 20.0 and not gbm.on_request(second)  # last2's own prediction
    assert not gbm.on_request(JobSpec(9, 0.0, user="zed"))  # never predicted here: nothing known of it


def test_gbm_with_a_model_says_so_for_a_user_with_no_run_learned_before_the_job() -> None:
    """QA: a trained model predicted a new user's first jobs at their 1-hour limit, and their 10 s runs taught the
    live forecaster a 1/360 error that drew every later forecast of theirs seconds ahead."""
    gbm = warmed_up_after_the_last_prediction()  # users u0-u2
    assert gbm.current() is not None
    new = JobSpec(100, 2000.0, time_limit=3600.0, user="carol")
    gbm.predict(new)
    assert gbm.on_request(new)
    known = JobSpec(101, 2000.0, time_limit=3600.0, user="u1")
    gbm.predict(known)
    assert not gbm.on_request(known)

"""Predictions are online by construction: a job's prediction never depends on what finished after it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hal.engine.predict.basic import LastTwo
from hal.engine.predict.features import INDEX, MISSING, History
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History as Replay
from hal.learn.evaluate import evaluate, replay
from hal.model.job import JobSpec
from tests.unit.learn.conftest import SMALL


def job(jid: int, submit: float, user: str = "a", limit: float = 1000.0, runtime: float = 100.0) -> JobSpec:
    return JobSpec(job_id=jid, submit_time=submit, time_limit=limit, user=user, runtime=runtime)


def test_features_see_only_delivered_completions() -> None:
    h = History()
    first = job(1, 0.0, runtime=300.0)
    h.row(first)
    h.submitted(first)
    second = job(2, 10.0)
    row = h.row(second)
    assert row[INDEX["user_last"]] == MISSING  # job 1 still runs: nothing known about it
    assert row[INDEX["user_outstanding"]] == 1.0
    h.submitted(second)
    h.finished(first, 300.0, 300.0)
    third = job(3, 400.0)
    row = h.row(third)
    assert row[INDEX["user_last"]] == np.log(300.0)
    assert row[INDEX["user_outstanding"]] == 1.0  # job 2 is still outstanding


def test_outstanding_counts_each_job_once_and_drop_cancelled_ones() -> None:
    """A live controller predicts a job again after a restart or a requeue, and some jobs are cancelled before
    they run: the user's outstanding count (a model input) must not drift with either."""
    from hal.engine.cycle import Scheduler
    from hal.engine.profile import Profile
    from hal.sim.simulator import pool_for

    pred = GbmPredictor(cfg=SMALL)
    book, space = pool_for(8)
    sched = Scheduler(book, space, Profile(), pred)
    for jid in (1, 2, 3):
        sched.submit(dataclasses.replace(job(jid, 0.0), tasks=4, begin_time=1e6), 0.0)  # held: stays pending
    pred.predict(job(1, 0.0))  # predicted again (a restart): still one job
    assert pred.history.users["a"].outstanding == 3
    sched.cancel(2)
    assert pred.history.users["a"].outstanding == 2 and 2 not in pred.pending
    pred.observe(job(1, 0.0), 100.0, 100.0)
    pred.observe(job(1, 0.0), 100.0, 100.0)  # a stray second end changes nothing more
    assert pred.history.users["a"].outstanding == 1
    assert pred.history.users["a"].outstanding_procs == 4


def perturbed_after(history: Replay, cutoff: float) -> Replay:
    """The same trace, except that every job submitted after ``cutoff`` ran three times longer."""
    jobs, ends = [], history.ends.copy()
    for i, j in enumerate(history.jobs):
        if j.submit_time > cutoff:
            run = (j.runtime or 0.0) * 3 + 7
            ends[i] = ends[i] - (j.runtime or 0.0) + run
            j = dataclasses.replace(j, runtime=run)
        jobs.append(j)
    return Replay(jobs, ends)


def test_gbm_predictions_ignore_the_future(sample_history: Replay) -> None:
    cutoff = sample_history.jobs[2000].submit_time
    base, _, _ = replay(sample_history, GbmPredictor(SMALL))
    other, _, _ = replay(perturbed_after(sample_history, cutoff), GbmPredictor(SMALL))
    before = np.array([j.submit_time <= cutoff for j in sample_history.jobs])
    assert before.sum() > 1500
    assert np.array_equal(base[before], other[before])
    assert not np.array_equal(base[~before], other[~before])  # and the perturbation does reach later jobs


@pytest.mark.parametrize("mode", ["select", "regress"])
def test_gbm_is_trained_and_capped_at_the_request(sample_history: Replay, mode: str) -> None:
    pred = GbmPredictor(dataclasses.replace(SMALL, mode=mode))
    ev = evaluate(sample_history, pred)
    assert pred.model is not None and pred.completions > SMALL.warmup
    limits = np.array([j.time_limit or np.inf for j in sample_history.jobs])
    assert np.all(ev.predictions <= limits + 1e-9)
    assert np.all(ev.predictions >= 1.0)
    last2 = evaluate(sample_history, LastTwo())
    assert ev.overall.accuracy > 0.45 and last2.overall.accuracy > 0.3


def test_cold_start_falls_back_to_last2() -> None:
    pred, ref = GbmPredictor(SMALL), LastTwo()
    for k in range(50):
        spec = job(k, float(k), user=f"u{k % 3}", runtime=50.0 + k)
        assert pred.predict(spec) == ref.predict(spec)
        pred.observe(spec, 50.0 + k, float(k) + 0.5)
        ref.observe(spec, 50.0 + k, float(k) + 0.5)
    assert pred.model is None

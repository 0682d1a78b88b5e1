"""The tuned key's time-dependent terms (wait, starvation guard, fits-now), its objectives and its search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hal.engine.api import Context
from hal.engine.plugins.tuned import STARVED, Tuned, TunedArgs
from hal.learn.tune import DIMS_RL, aggregate, rl_dynamic, rl_key, rl_setup, search
from hal.model.job import JobSpec
from hal.sim.rlscheduler import RlJob, RlSetup, simulate_window


def _jobs(n: int = 300) -> list[RlJob]:
    return [RlJob(i, 10 * i + (i % 3), 50 + 7 * (i % 5), 100 + 13 * (i % 7), 1 + (i % 4)) for i in range(n)]


def test_dynamic_path_with_static_weights_matches_the_static_key() -> None:
    jobs = _jobs()
    args = TunedArgs(w_pred=0.7, w_procs=0.2, w_age=0.01)
    static = simulate_window(jobs, 4, 1.0, RlSetup("custom", True, key=rl_key(args)))
    dynamic = simulate_window(jobs, 4, 1.0, RlSetup("custom", True, dynamic=rl_dynamic(args)))
    assert static == dynamic
    assert rl_setup(args).key is not None and rl_setup(TunedArgs(max_wait=5.0)).dynamic is not None


def test_guard_fit_and_wait_terms_order_the_queue() -> None:
    # job 0: old and wide; job 1: fresh and narrow; job 2: fresh, narrow, longer request
    jobs = [RlJob(0, 0, 100, 10_000, 8), RlJob(1, 7_000, 100, 100, 1), RlJob(2, 7_100, 100, 1_000, 1)]
    now, free = 7_200, 4
    keys = rl_dynamic(TunedArgs(w_pred=1.0, max_wait=1.5))(jobs, 1.0)([0, 1, 2], now, free)
    assert keys[0] == STARVED + 0 and keys[1] < keys[2]  # two hours waited: past the guard, goes first
    keys = rl_dynamic(TunedArgs(w_pred=1.0, w_fit=10.0))(jobs, 1.0)([0, 1, 2], now, free)
    assert keys[0] == pytest.approx(4.0 + 10.0) and keys[1] == pytest.approx(2.0)  # 8 procs do not fit in 4
    keys = rl_dynamic(TunedArgs(w_pred=0.0, w_wait=1.0))(jobs, 1.0)([0, 1, 2], now, free)
    assert keys[0] == pytest.approx(-math.log10(1 + 120)) and keys[0] < keys[1] < keys[2]


def test_hal_plugin_is_dynamic_with_wait_terms_and_refuses_fit() -> None:
    assert Tuned(TunedArgs()).static and not Tuned(TunedArgs(w_wait=0.5)).static
    jobs = [JobSpec(1, 0.0, tasks=1, time_limit=100.0), JobSpec(2, 3_000.0, tasks=1, time_limit=100.0)]
    keys = Tuned(TunedArgs(w_pred=0.0, max_wait=1.0)).keys(jobs, np.array([100.0, 100.0]), Context(now=3_700.0))
    assert keys[0] < STARVED / 2 < keys[1]
    with pytest.raises(ValueError, match="RLScheduler"):
        Tuned(TunedArgs(w_fit=1.0))


def test_the_request_term_never_reads_the_run_time_a_trace_job_without_a_request_has_as_its_limit() -> None:
    """QA: w_req read ``time_limit``, which for such a job is its run time: the tuned order ran it by how long it
    would really take. Without a request the term uses the prediction, as the other terms do."""
    tuned = Tuned(TunedArgs(w_pred=0.0, w_req=1.0))
    long, short = (
        JobSpec(i, 0.0, tasks=1, time_limit=run, request_known=False) for i, run in ((2, 5_000.0), (3, 10.0))
    )
    assert tuned.key(long, 3_600.0) == tuned.key(short, 3_600.0)
    asked = JobSpec(4, 0.0, tasks=1, time_limit=10.0)
    assert tuned.key(asked, 3_600.0) < tuned.key(short, 3_600.0)  # a real request still counts


def test_objectives_damp_a_single_huge_window() -> None:
    values = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10_000.0]
    assert aggregate(values) == pytest.approx(1009.0)
    assert aggregate(values, "logmean") == pytest.approx(10 * 1000**0.1)
    assert aggregate(values, "trim") == pytest.approx(10.0)
    with pytest.raises(ValueError):
        aggregate(values, "median")


def test_search_moves_logarithmic_and_switchable_weights() -> None:
    def bowl(a: TunedArgs) -> float:
        guard = (math.log10(a.max_wait) - 1.0) ** 2 if a.max_wait > 0 else 4.0
        return guard + (a.w_fit - 3.0) ** 2 / 100 + (a.w_wait - 0.5) ** 2

    res = search(bowl, budget=200, dims=DIMS_RL)
    assert 5.0 < res.best.max_wait < 20.0 and abs(res.best.w_wait - 0.5) < 0.15 and res.evaluations <= 200

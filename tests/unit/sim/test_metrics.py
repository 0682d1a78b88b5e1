"""Summary metrics with the definitions of ../shared/anchors.md: wait, bounded slowdown (tau = 10 s), utilization."""

from __future__ import annotations

import numpy as np
import pytest

from hal.sim.metrics import TAU, bounded_slowdown, summarize
from hal.sim.simulator import Outcome


def outcome(submit: list[float], start: list[float], run: list[float], procs: list[int], capacity: int) -> Outcome:
    s, r = np.array(start, dtype=np.float64), np.array(run, dtype=np.float64)
    n = len(submit)
    return Outcome(
        job_id=np.arange(1, n + 1),
        submit=np.array(submit, dtype=np.float64),
        start=s,
        end=s + r,
        run=r,
        procs=np.array(procs, dtype=np.int64),
        estimate=r.copy(),
        backfilled=np.array([False, True, False, False][:n]),
        wall_seconds=0.5,
        capacity=capacity,
    )


def test_bounded_slowdown_uses_tau_ten_seconds() -> None:
    assert TAU == 10.0
    wait = np.array([0.0, 90.0, 5.0, 100.0, 0.0])
    run = np.array([100.0, 10.0, 1.0, 0.0, 5.0])
    # max(1, (w + r) / max(r, 10))
    assert bounded_slowdown(wait, run).tolist() == [1.0, 10.0, 1.0, 10.0, 1.0]


def test_summary() -> None:
    out = outcome(submit=[0, 10, 20], start=[0, 30, 20], run=[100, 5, 50], procs=[2, 1, 4], capacity=8)
    s = summarize(out, skipped=2)
    assert s.jobs == 3 and s.skipped == 2
    assert s.avg_wait == pytest.approx(20 / 3)
    assert s.max_bsld == pytest.approx(max(1, 25 / 10))
    assert s.avg_bsld == pytest.approx((1 + 2.5 + 1) / 3)
    # utilization = sum(run x procs) / (capacity x (last end - first submit))
    assert s.makespan == 100.0
    assert s.utilization == pytest.approx((100 * 2 + 5 * 1 + 50 * 4) / (8 * 100))
    assert s.backfilled == 1
    assert s.jobs_per_second == pytest.approx(6.0)
    assert set(s.as_dict()) >= {"jobs", "avg_wait", "avg_bsld", "max_bsld", "utilization", "makespan"}


def test_jobs_that_never_started_are_left_out_and_rejections_count_as_skipped() -> None:
    out = outcome(submit=[0, 0], start=[0, float("nan")], run=[10, 10], procs=[1, 1], capacity=1)
    out.rejected.append("job 2: too big")
    s = summarize(out)
    assert s.jobs == 1 and s.skipped == 1 and s.utilization == pytest.approx(1.0)


def test_nothing_ran() -> None:
    out = outcome(submit=[0], start=[float("nan")], run=[10], procs=[1], capacity=1)
    s = summarize(out, skipped=3)
    assert (s.jobs, s.skipped, s.avg_bsld, s.utilization) == (0, 3, 0, 0)

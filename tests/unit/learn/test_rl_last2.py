"""The tuned key on last2 predictions under RLScheduler's setup: learned online inside a window, no look-ahead."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from hal.engine.plugins.tuned import TunedArgs
from hal.learn.tune import Last2Window, rl_setup
from hal.sim.rlscheduler import RlJob, RlSetup, schedule_window, simulate_window


def _jobs(n: int = 400, seed: int = 3) -> list[RlJob]:
    rng = random.Random(seed)
    jobs, t = [], 0
    for i in range(n):
        t += rng.randint(0, 40)
        run = rng.choice((10, 60, 600, 3_000))
        jobs.append(RlJob(i, t, run, max(run, rng.choice((600, 3_600, 7_200))), rng.randint(1, 4), rng.randint(0, 5)))
    return jobs


def test_a_user_is_predicted_at_the_request_until_one_of_their_jobs_ends() -> None:
    jobs = [RlJob(0, 0, 100, 1_000, 1, 7), RlJob(1, 5, 40, 2_000, 1, 7), RlJob(2, 9, 10, 20, 1, 7)]
    jobs.append(RlJob(3, 9, 5, 50, 1, -1))
    window = Last2Window(TunedArgs(w_pred=1.0), jobs, 1.0)
    assert [window.predict(j) for j in jobs] == [1_000.0, 2_000.0, 20.0, 50.0]
    before = window([1, 2], 10, 1)
    window.ended(0)
    assert window.predict(jobs[1]) == 100.0 and window.predict(jobs[2]) == 20.0  # capped at the request
    window.ended(1)
    assert window.predict(jobs[1]) == 70.0  # the mean of the user's last two runtimes
    window.ended(3)  # a job without a user teaches nothing about anyone
    assert window.predict(jobs[3]) == 50.0
    assert window([1, 2], 10, 1)[0] < before[0]  # the cached key followed the user's history


class Recording(Last2Window):
    """Notes, at every head choice, which jobs the predictor had heard of by then."""

    def __init__(self, args: TunedArgs, jobs: Sequence[RlJob], ppn: float, log: list[tuple[int, list[int]]]) -> None:
        super().__init__(args, jobs, ppn)
        self.heard: list[int] = []
        self.log = log

    def ended(self, j: int) -> None:
        self.heard.append(j)
        super().ended(j)

    def __call__(self, queue: list[int], now: int, free: int) -> list[float]:
        self.log.append((now, list(self.heard)))
        return super().__call__(queue, now, free)


@pytest.mark.parametrize("backfill", [True, False])
def test_the_predictor_hears_only_jobs_that_ended_before_each_decision(backfill: bool) -> None:
    jobs = _jobs()
    log: list[tuple[int, list[int]]] = []
    args = TunedArgs(w_pred=1.0, w_req=0.2, w_procs=0.1)
    setup = RlSetup("custom", backfill, dynamic=lambda js, ppn: Recording(args, js, ppn, log))
    starts = schedule_window(jobs, 4, 1.0, setup)
    assert log and all(s >= j.submit for s, j in zip(starts, jobs, strict=True))
    for now, heard in log:
        assert len(heard) == len(set(heard))  # every completion is delivered once
        assert all(starts[j] + jobs[j].run <= now for j in heard)  # and only once it has happened
    assert len(log[-1][1]) < len(jobs)  # the last decision cannot have heard of the jobs still to run


def test_last2_lets_a_users_short_jobs_with_long_requests_go_first() -> None:
    jobs = _jobs()
    args = TunedArgs(w_pred=1.0)
    plain = simulate_window(jobs, 4, 1.0, rl_setup(args, True))
    learned = simulate_window(jobs, 4, 1.0, rl_setup(args, True, "last2"))
    assert learned < plain
    with pytest.raises(ValueError, match="request or last2"):
        rl_setup(args, True, "gbm")

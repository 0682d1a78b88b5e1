"""EASY-SJBF with predictions: candidates ordered by prediction (ties by submission), the head's reservation
planned on the running jobs' predictions, and moved when an overrun is corrected."""

from __future__ import annotations

from dataclasses import dataclass

from hal.engine.api import Estimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import Simulation, pool_for


@dataclass
class Table:
    """Predicts what the test says for each job (a stand-in for a learned model; it learns nothing)."""

    guesses: dict[int, float]
    name: str = "table"

    def predict(self, job: JobSpec) -> Estimate:
        return Estimate(self.guesses[job.job_id], job.time_limit or 0.0)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def run(j1_runtime: float, j3_guess: float) -> dict[int, float]:
    # 4 processors. J1 (3 procs) and J0 (1 proc) fill the machine; J2 wants all 4 and heads the queue; J3 and
    # J4 (1 proc each) wait for J0's processor. J3 has the shorter request, J4 the shorter prediction.
    rows = [  # id, submit, procs, limit, runtime, prediction
        (1, 0, 3, 1000, j1_runtime, 100),
        (0, 0, 1, 10, 10, 10),
        (2, 1, 4, 100, 50, 50),
        (3, 2, 1, 90, 30, j3_guess),
        (4, 3, 1, 500, 30, 40),
    ]
    jobs = [JobSpec(job_id=j, submit_time=s, tasks=p, time_limit=q, runtime=r) for j, s, p, q, r, _ in rows]
    book, space = pool_for(4)
    profile = Profile(backfill="easy", backfill_order="sjf")
    out = Simulation(jobs, book, space, profile, Table({row[0]: float(row[5]) for row in rows})).run()
    return dict(zip(out.job_id.tolist(), out.start.tolist(), strict=True))


def test_candidates_go_by_prediction_and_the_head_is_planned_on_predictions() -> None:
    start = run(j1_runtime=100, j3_guess=80)
    assert start[4] == 10.0  # predicted 40 s: first, although its request (500 s) is the longer
    # J3 (predicted 80 s) would end at 120 > J1's predicted end (100), where the head is reserved: it waits
    # for the head. Planned on J1's request (1000 s) instead, it would have started at 40.
    assert start[2] == 100.0
    assert start[3] == 150.0


def test_equal_predictions_keep_submission_order() -> None:
    start = run(j1_runtime=100, j3_guess=40)
    assert start[3] == 10.0 and start[4] == 40.0


def test_a_corrected_overrun_moves_the_heads_reservation() -> None:
    # J1 outlives its 100 s prediction: at 100 it is extended to its 1000 s request (Tsafrir's correction),
    # the head's reservation moves with it, and J3 fits before it.
    start = run(j1_runtime=200, j3_guess=80)
    assert start[3] == 100.0
    assert start[2] == 200.0

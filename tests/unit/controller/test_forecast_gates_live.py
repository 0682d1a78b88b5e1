"""What a live controller's start forecasts are told of the tasks an array's %limit keeps out of the engine (a real
controller, its clock and its executor's reports driven by the test): a job after a whole array keeps its forecast
once the array's first task has ended, and the waiting tasks share the limit's slots in index order."""

from __future__ import annotations

import math
import time

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.update import update
from hal.engine.forecast import StartEstimate
from hal.model.job import JobSpec
from tests.unit.controller.test_forecast_errors_live import Clock, end, live, submit

__all__ = ["live"]  # the fixture


def forecasts(ctl: Controller, wanted: set[int]) -> dict[int, StartEstimate]:
    deadline = time.monotonic() + 20.0
    while True:
        got = ctl.board.estimates(ctl, wanted)
        if not ctl.board.computing():
            return got
        assert time.monotonic() < deadline, "no forecast arrived"
        time.sleep(0.02)


def test_a_job_after_a_whole_array_keeps_its_forecast_once_the_first_task_ended(
    live: tuple[Controller, Clock],
) -> None:
    """QA: `--dependency afterok:ARRAY` on an array with a %1 limit showed N/A N/A once task 0 had ended: the
    forecast's clone had forgotten the ended task, and refused the job."""
    ctl, clock = live
    tasks = submit(ctl, {"array": "0-3%1", "time": "1:00"}, 20)
    after = submit(ctl, {"dependency": f"afterok:{tasks[0]}", "time": "1:00"}, 1)[0]
    ctl.run_cycle()
    end(ctl, tasks[0], 1020.0)
    clock.now = 1021.0
    ctl.run_cycle()
    assert tasks[1] in ctl.sched.running and after in ctl.deferred
    got = forecasts(ctl, {after, *tasks[2:]})
    assert after in got and math.isfinite(got[after].p50)
    assert got[after].p50 >= got[tasks[3]].p50 + 1.0  # after the last task's run
    assert got[tasks[2]].p50 < got[tasks[3]].p50  # one at a time


def test_tasks_behind_a_limit_are_forecast_in_index_order_from_shared_slots(
    live: tuple[Controller, Clock],
) -> None:
    """QA: `--array 0-11%2`: 169_3 was forecast before 169_2, and even tasks' p90s 15 minutes after odd ones'
    (each waiting task followed the task two places ahead, a fixed lane, whichever slot freed first)."""
    ctl, _ = live
    ctl.sched.predictor.observe(JobSpec(0, 0.0, user="ada"), 10.0, 500.0)  # last2: her runs take 10 s
    f = ctl.board.forecaster
    for k in range(64):  # they take 0.3x to 1.8x that: members draw very different lanes
        f.observe(10.0, 10.0 * (0.3 + 0.1 * (k % 16)), "ada")
    f.scores.extend([0.0] * 40)  # and earlier forecasts held: p90s are the ensemble's own
    tasks = submit(ctl, {"array": "0-11%2", "time": "2:00"}, 10)
    ctl.run_cycle()
    assert set(ctl.sched.running) == set(tasks[:2])
    got = forecasts(ctl, set(tasks[2:]))
    p50s, p90s = [got[j].p50 for j in tasks[2:]], [got[j].p90 for j in tasks[2:]]
    assert all(math.isfinite(x) for x in p50s + p90s)
    assert p50s == sorted(p50s) and p90s == sorted(p90s)  # every member starts them in index order


def test_lifting_the_limit_of_an_array_with_a_held_task_forecasts_at_once(live: tuple[Controller, Clock]) -> None:
    """QA HIGH: `hal update ARRAY ArrayTaskThrottle=0` (no limit: 2**31 - 1 slots) on an array whose held task waited
    behind its %1 made each forecast let go of waiting tasks 2**31 times under the controller's lock: the server
    stopped answering and scheduling until killed."""
    ctl, _ = live
    tasks = submit(ctl, {"array": "0-3%1", "time": "1:00", "hold": ""}, 20)
    update(ctl, str(tasks[0]), Identity("ada", admin=False), {"ArrayTaskThrottle": "0"})
    ctl.run_cycle()
    t0 = time.monotonic()
    forecasts(ctl, set(tasks))
    assert time.monotonic() - t0 < 10.0, "a forecast of four held tasks took seconds"

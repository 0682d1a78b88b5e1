"""The forecast replay learns runtime errors from the runs the live server learns from (StartBoard.ended): a run
predicted on its request, before its user had any history, taught the replay an error the server now ignores."""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.predict.basic import LastTwo
from hal.engine.profile import Profile
from hal.learn.forecast_eval import _Replay
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


def test_a_run_predicted_on_its_request_teaches_no_error() -> None:
    jobs = [  # one processor: each waits for the one before; the first is predicted on its 1,800 s request
        JobSpec(1, 0.0, tasks=1, time_limit=1800.0, runtime=20.0, user="al"),
        JobSpec(2, 100.0, tasks=1, time_limit=1800.0, runtime=25.0, user="al"),
        JobSpec(3, 200.0, tasks=1, time_limit=1800.0, runtime=30.0, user="al"),
    ]
    book, space = pool_for(1)
    forecaster = Forecaster(members=4)
    replay = _Replay(jobs, Scheduler(book, space, Profile(), LastTwo()), forecaster)
    while len(replay.events):
        replay.step()
    ratios = [r for _, r in forecaster.ratios]
    assert len(ratios) == 2 and min(ratios) > 0.5, ratios  # 20/1800 = 0.011 was recorded too

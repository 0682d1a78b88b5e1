"""An array's tasks run the same script, so a start forecast draws one runtime error for all of them: drawn apart,
two long runs in the user's record (jobs that ran 50x their prediction) summed over a queue of 200 one-second tasks
put the last task's p50 30 minutes late, when the array finished in 2 (QA)."""

from __future__ import annotations

from pathlib import Path

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.store import Store, sqlite_url
from hal.controller.update import update
from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


class Table:
    name = "table"

    def predict(self, job: JobSpec) -> Estimate:
        return Estimate(130.0, 300.0) if job.job_id == 1 else Estimate(3.0, 10.0)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def _last_p50(batch: int | None) -> float:
    """A 2-CPU node: a blocker, then 200 one-CPU tasks predicted at 3 s; the user's tasks ran 1 s but for two
    that ran 150 s and 90 s."""
    book, space = pool_for(2)
    s = Scheduler(book, space, Profile(), Table())
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=300.0, user="u"), 0.0)
    s.cycle(0.0)
    for j in range(2, 202):
        s.submit(JobSpec(j, 5.0, tasks=1, time_limit=120.0, user="u", batch=batch), 5.0)
    s.cycle(5.0)
    f = Forecaster()
    for _ in range(200):
        f.observe(3.0, 1.0, "other")
    for r in [1.0] * 14 + [150.0, 90.0]:
        f.observe(3.0, r, "u")
    return f.starts(s, 10.0)[201].p50 - 10.0


def test_an_arrays_tasks_share_their_runtime_draw() -> None:
    apart, together = _last_p50(None), _last_p50(7)
    # 100 pairs of 1 s tasks after the blocker: about 2 minutes, as the array ran; drawn apart, 25 minutes
    assert together < 300.0 < 900.0 < apart, (together, apart)


def test_the_controller_marks_an_arrays_tasks(tmp_path: Path) -> None:
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(None), LocalExecutor(tmp_path / "spool"))
    (array,) = set(ctl.submit(build_request("#!/bin/sh\ntrue\n", {"array": "0-3", "hold": "1"}, {}, str(tmp_path), 0),
                              "al").job_ids[:1])  # fmt: skip
    single = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"hold": "1"}, {}, str(tmp_path), 0), "al").job_ids[0]
    tasks = [lv for lv in ctl.live.values() if lv.array_job_id is not None]
    assert len(tasks) == 4 and {lv.spec.batch for lv in tasks} == {array}
    assert ctl.live[single].spec.batch is None
    update(ctl, str(tasks[1].job_id), Identity("al", admin=True), {"TimeLimit": "5:00"})  # an update keeps it
    assert ctl.live[tasks[1].job_id].spec.batch == array

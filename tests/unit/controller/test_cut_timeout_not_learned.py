"""A job killed at a --time-min cut ends TIMEOUT at a limit the scheduler chose: it says only that the job needed
longer, so neither the live controller nor a restart's relearn teaches it as the job's runtime (QA: a run cut at
36 s had the user's next 10-minute job predicted to end 36 s after its start). A TIMEOUT at the limit the user
gave is still learned: that limit is the run's length as planning must know it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hal.api.server import ServerOptions, build
from hal.controller.censored import below_asked
from hal.controller.directives import JobRequest, build_request
from hal.controller.jobs import new_row, request_json
from hal.controller.learning import relearn
from hal.controller.lowered_limit import lower_limit
from hal.controller.store import Store, job_attempts, sqlite_url
from hal.engine.predict.basic import LastTwo
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState

ASKED = JobRequest(script="#!/bin/sh\nsleep 100\n", nodes=1, tasks=1, time_limit=3600.0, time_min=30.0)
CUT = JobRequest(
    script=ASKED.script, nodes=1, tasks=1, time_limit=60.0, time_min=30.0, time_lowered=True, time_asked=3600.0
)


def test_only_a_limit_below_the_time_asked_is_a_cut() -> None:
    assert below_asked(60.0, CUT) and below_asked(60.0, ASKED)  # a cut, or an attempt's cut after a restore
    assert not below_asked(3600.0, ASKED) and not below_asked(3600.0, CUT)  # moved all the way to its --time
    assert not below_asked(None, ASKED)
    unlimited = JobRequest(script="", time_limit=60.0, time_min=30.0, time_lowered=True, time_asked=None)
    assert below_asked(60.0, unlimited)


def _job(store: Store, jid: int, req: JobRequest, t: float, run: float, state: str) -> None:
    with store.engine.begin() as conn:
        store.insert_jobs(conn, [new_row(jid, req, "ada", t, None, request_json(req, []))], t, "submitted")
        values = {"state": state, "start_time": t + 1, "end_time": t + 1 + run, "alloc_cpus": 1}
        if state == "PENDING":
            values = {"state": state, "restarts": 1}
        store.update_job(conn, jid, {**values, "time_limit": req.time_limit})


def test_a_restart_s_relearn_leaves_out_runs_killed_at_a_cut(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    _job(store, 1, ASKED, 10.0, 500.0, "COMPLETED")
    _job(store, 2, ASKED, 700.0, 3600.0, "TIMEOUT")  # killed at its own --time: learned
    _job(store, 3, CUT, 5000.0, 60.0, "TIMEOUT")  # killed at its cut
    _job(store, 4, ASKED, 5500.0, 0.0, "PENDING")  # its run was cut, then hal requeue after it ended
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(job_attempts).values(
                job_id=4, restarts=0, state="REQUEUED", cause="requeued by root after it ended TIMEOUT",
                start_time=6001.0, end_time=6061.0, nodelist="", alloc_cpus=1, alloc="", charged=True, time_limit=60.0,
            )
        )  # fmt: skip
    last2 = LastTwo()
    assert relearn(last2, store) == 4
    assert list(last2.history["ada"]) == [500.0, 3600.0]  # the last two learned: neither 60-s cut
    store.close()


def test_the_live_controller_does_not_learn_a_run_killed_at_its_cut(tmp_path: Path) -> None:
    ctl, _app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", predictor="last2"))
    try:
        jobs = []
        for opts in ({"time": "1:00:00", "time-min": "0:30"}, {"time": "0:10"}):
            req = build_request("#!/bin/sh\nsleep 300\n", opts, {}, str(tmp_path), 0)
            jobs.append(int(ctl.submit(req, "ada").job_ids[0]))
        ctl.run_cycle()
        cut, own = jobs
        start = ctl.sched.running[cut].start
        with store.engine.begin() as conn:
            store.update_job(conn, cut, lower_limit(store, conn, ctl.live[cut], 60.0, start))
        ends = [(cut, start + 60.0), (own, ctl.sched.running[own].start + 10.0)]
        ctl._handle([ExecEvent(j, ExecEventKind.ENDED, t, JobState.TIMEOUT, None, None, 0.0, 0.0, "") for j, t in ends])
        assert [store.get(j)["state"] for j in jobs] == ["TIMEOUT", "TIMEOUT"]
        assert list(ctl.sched.predictor.history["ada"]) == [10.0]  # the own-limit TIMEOUT only
    finally:
        executor.shutdown()
        store.close()

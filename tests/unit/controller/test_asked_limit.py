"""An administrator's raise of a job's limit is not the user's request: start forecasts learn the user's runtime
errors against the limit she asked for (QA: four jobs raised from 1 to 10 minutes taught ratios of 0.03, and her
next jobs were forecast 10x too short)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hal.api.server import ServerOptions, build
from hal.controller.asked_limit import asked
from hal.controller.directives import JobRequest, build_request
from hal.controller.startboard import StartBoard
from hal.controller.update import update
from hal.executors.api import ExecEventKind
from hal.model.job import JobSpec
from tests.clusters import cluster_toml
from tests.unit.controller.topokit import ADMIN

CLUSTER = cluster_toml(name="c", nodes=2, cpus=2, mem="1G")


def test_a_raise_keeps_what_the_user_asked_for_and_a_cut_is_her_new_word() -> None:
    spec = JobSpec(1, 0.0, time_limit=60.0, user="alice")
    assert asked(spec, JobRequest("x", time_limit=600.0)) == 60.0
    raised = replace(spec, time_limit=600.0, asked_limit=60.0)
    assert asked(raised, JobRequest("x", time_limit=1200.0)) == 60.0  # raised again: still hers
    assert asked(raised, JobRequest("x", time_limit=None)) == 60.0  # made unlimited
    assert asked(raised, JobRequest("x", time_limit=30.0)) is None  # cut below it: the new limit is hers
    assert asked(spec, JobRequest("x", time_limit=30.0)) is None


def test_the_board_learns_the_users_share_of_what_she_asked_for() -> None:
    board = StartBoard()
    for limit, asked_limit in ((600.0, 60.0), (60.0, None)):
        spec = JobSpec(1, 0.0, time_limit=limit, user="alice", asked_limit=asked_limit)
        act = SimpleNamespace(item=SimpleNamespace(spec=spec, estimate=limit), start=0.0)
        board.ended(None, act, 30.0, learn=True)
    assert list(board.forecaster.asked["alice"]) == [0.5, 0.5]  # 30 s of the 60 s asked for, both times


def test_the_limit_asked_for_survives_a_restart_and_a_second_raise(tmp_path: Path) -> None:
    """A restart rebuilt the spec from the stored request and lost the limit the user asked for; a running job
    raised twice learned against the first raise."""
    (tmp_path / "c.toml").write_text(CLUSTER)
    opts = ServerOptions(home=tmp_path / "home", executor="local", cluster=tmp_path / "c.toml")
    ctl, _app, store, executor = build(opts)
    try:
        run = build_request("#!/bin/sh\nsleep 60\n", {"time": "1"}, {}, str(tmp_path), 0)
        held = build_request("#!/bin/sh\ntrue\n", {"time": "2", "hold": "1"}, {}, str(tmp_path), 0)
        running, pending = (int(ctl.submit(r, "alice").job_ids[0]) for r in (run, held))
        ctl.run_cycle()
        assert ctl.live[running].state == "RUNNING"
        for limit in ("10", "20"):  # raised twice by an administrator
            update(ctl, str(running), ADMIN, {"TimeLimit": limit})
        update(ctl, str(pending), ADMIN, {"TimeLimit": "30"})
        assert ctl.live[running].spec.asked_limit == 60.0
        assert ctl.sched.running[running].item.spec.asked_limit == 60.0
    except BaseException:
        _stop(ctl, running)
        raise
    finally:
        executor.shutdown()
        store.close()
    ctl, _app, store, executor = build(opts)  # a restart: the running job is reattached
    try:
        assert ctl.live[running].spec.time_limit == 1200.0 and ctl.live[running].spec.asked_limit == 60.0
        assert ctl.sched.running[running].item.spec.asked_limit == 60.0
        assert ctl.live[pending].spec.time_limit == 1800.0 and ctl.live[pending].spec.asked_limit == 120.0
        update(ctl, str(pending), ADMIN, {"TimeLimit": "1"})  # cut below what she asked: her new word
        assert ctl.live[pending].spec.asked_limit is None
        assert "_asked" not in json.loads((store.get(pending) or {})["request"])
    finally:
        _stop(ctl, running)
        executor.shutdown()
        store.close()


def _stop(ctl: Any, job: int) -> None:
    """Kill the job's processes and wait for their end, so none outlives the test."""
    ctl.executor.cancel(job, 0.0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(e.job_id == job and e.kind is ExecEventKind.ENDED for e in ctl.executor.events()):
            return
        time.sleep(0.05)

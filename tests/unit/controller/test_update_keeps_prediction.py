"""An update of a pending job that changes nothing a predictor reads (its nice) keeps the prediction frozen at its
submission, as a restart does; one that changes its request is predicted again (QA: every update re-predicted it
from runs that ended after its submission, so twins were planned apart after an update but not after a restart)."""

from __future__ import annotations

from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.controller.directives import build_request
from hal.controller.update import update
from hal.model.job import JobSpec
from tests.unit.controller.topokit import ADMIN


def test_a_nice_change_keeps_the_prediction_and_a_new_limit_makes_a_new_one(tmp_path: Path) -> None:
    ctl, _app, store, executor = build(ServerOptions(home=tmp_path / "home", executor="dev", predictor="last2"))
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"time": "10", "hold": "1"}, {}, str(tmp_path), 0)
        job = int(ctl.submit(req, "alice").job_ids[0])
        ctl.run_cycle()

        def estimate() -> float:
            return ctl.sched.held[job].estimate  # held: it waits in the engine without starting

        assert estimate() == 600.0  # nothing of hers learned yet: her request
        ctl.sched.predictor.observe(JobSpec(99, 0.0, user="alice", time_limit=600.0), 30.0, ctl.clock())
        update(ctl, str(job), ADMIN, {"Nice": "10"})
        assert estimate() == 600.0  # as at its submission
        update(ctl, str(job), ADMIN, {"TimeLimit": "5"})
        assert estimate() == 30.0  # a new request: predicted from what is known now
    finally:
        executor.shutdown()
        store.close()

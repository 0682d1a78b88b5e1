"""A restarted server predicts its queued jobs again after replaying the accounting records: from the runs known
when each was submitted, as the server that took it predicted it, never from runs that ended later (QA: held twins,
one released before a restart and one after, were planned at 2 s and 15 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.directives import JobRequest
from hal.controller.jobs import new_row, request_json, spec_of
from hal.controller.learning import open_predictor, relearn
from hal.controller.store import Store, sqlite_url

REQ = JobRequest(script="#!/bin/sh\ntrue\n", tasks=1, time_limit=600.0)


def _records(db: Path) -> None:
    """Three 2 s runs of ada's, her job 4 submitted (and still queued), then four 15 s runs of hers."""
    store, stored = Store(sqlite_url(db)), request_json(REQ, [])
    with store.engine.begin() as conn:
        t = 1.0e6
        for jid, run in ((1, 2.0), (2, 2.0), (3, 2.0), (4, None), (5, 15.0), (6, 15.0), (7, 15.0), (8, 15.0)):
            store.insert_jobs(conn, [new_row(jid, REQ, "ada", t, None, stored)], t, "submitted")
            if run is not None:
                store.update_job(conn, jid, {"state": "COMPLETED", "start_time": t + 1, "end_time": t + 1 + run})
            t += 100.0
    store.close()


@pytest.mark.parametrize("name", ["last2", "gbm"])
def test_a_queued_job_is_predicted_again_from_the_runs_known_at_its_submission(tmp_path: Path, name: str) -> None:
    _records(tmp_path / "hal.db")
    store = Store(sqlite_url(tmp_path / "hal.db"))
    try:
        live = open_predictor(name, None, tmp_path)
        relearn(live.predictor, store)
        queued = spec_of(4, REQ, "ada", 1.0e6 + 300.0, ())
        assert live.predictor.predict(queued).point == 2.0
        assert live.predictor.predict(spec_of(9, REQ, "ada", 1.0e6 + 900.0, ())).point == 15.0  # a new one
    finally:
        store.close()


def test_gbm_with_a_model_predicts_a_job_again_from_its_frozen_input() -> None:
    from hal.model.job import JobSpec
    from tests.unit.sim.test_unfitted_gbm import warmed_up_after_the_last_prediction

    gbm = warmed_up_after_the_last_prediction()  # users u0-u2
    assert gbm.current() is not None
    queued = JobSpec(job_id=100, submit_time=2000.0, time_limit=3600.0, user="u1")
    first = gbm.predict(queued)
    for k in range(6):  # u1's runs change after the job was submitted
        later = JobSpec(job_id=200 + k, submit_time=2001.0 + k, time_limit=3600.0, user="u1")
        gbm.predict(later)
        gbm.observe(later, 3000.0, 2100.0 + k)
    assert gbm.predict(queued) == first

"""A restart's relearn freezes each job's input as of its submission, as the live controller did: a job still running
or queued at a crash (kill -9) is replayed at its submission, not predicted anew at the restart with runs that ended
after it (QA: its learned row then counted 3 same-request runs that ended later); a job cancelled in the queue counts
as outstanding until then, as it did live."""

from __future__ import annotations

from pathlib import Path

from hal.controller.directives import JobRequest
from hal.controller.jobs import new_row, request_json, request_of_row, spec_of
from hal.controller.learning import relearn
from hal.controller.store import Store, sqlite_url
from hal.engine.predict.features import INDEX
from hal.engine.predict.gbm import GbmPredictor
from hal.model.job import JobSpec

REQ = JobRequest(script="#!/bin/sh\nsleep 100\n", nodes=1, tasks=3, time_limit=540.0)  # sbatch -n 3 -t 9
LONG, CANCELLED, LATER = 1, 5, 6
SHORTS = ((2, 110.0, 120.0), (3, 111.0, 121.0), (4, 112.0, 122.0))  # id, submitted, ended (all after LONG's start)


def _job(store: Store, jid: int, submit: float, values: dict[str, object]) -> None:
    with store.engine.begin() as conn:
        store.insert_jobs(conn, [new_row(jid, REQ, "ada", submit, None, request_json(REQ, []))], submit, "submitted")
        if values:
            store.update_job(conn, jid, {"alloc_cpus": 3, **values})


def _spec(store: Store, jid: int) -> JobSpec:
    row = store.get(jid)
    assert row is not None
    return spec_of(jid, request_of_row(row), row["user"], row["submit_time"], ())


def test_a_job_running_at_a_crash_keeps_the_input_frozen_at_its_submission(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    _job(store, LONG, 100.0, {"state": "RUNNING", "start_time": 101.0})  # sleep 100: running at the kill -9
    _job(store, CANCELLED, 105.0, {"state": "CANCELLED", "end_time": 115.0})  # scancel in the queue
    for jid, submit, end in SHORTS:
        _job(store, jid, submit, {"state": "COMPLETED", "start_time": submit + 1.0, "end_time": end})
    _job(store, LATER, 130.0, {})  # still queued
    live = GbmPredictor()  # what the controller learned before it was killed, in the order it heard it
    for jid in (LONG, CANCELLED, *(s[0] for s in SHORTS)):
        live.predict(_spec(store, jid))
    live.forget(CANCELLED)
    for jid, submit, end in SHORTS:
        live.observe(_spec(store, jid), end - submit - 1.0, end)
    live.predict(_spec(store, LATER))

    replayed = GbmPredictor()
    assert relearn(replayed, store) == 3  # the runs that ended
    assert replayed.pending == live.pending and set(replayed.pending) == {LONG, LATER}
    assert replayed.pending[LONG][0][INDEX["same_request_count"]] == 0.0  # the shorts ended after it was submitted
    assert list(replayed.inputs) == list(live.inputs)  # the shorts' rows: LONG and the cancelled job outstanding
    assert replayed.history.users["ada"].outstanding == live.history.users["ada"].outstanding == 2
    frozen = replayed.pending[LONG]
    replayed.predict(_spec(store, LONG))  # recovery adopts it: predicted again, its frozen input kept
    assert replayed.pending[LONG] == frozen and replayed.history.users["ada"].outstanding == 2
    store.close()

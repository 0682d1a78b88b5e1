"""A restart's relearn (real SQLite accounting records) learns the runs the live controller learns: not those a
cancel, a requeue or a node failure cut short, whose jobs it forgets as the live scheduler does."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hal.controller.censored import learnable, learnable_attempt
from hal.controller.directives import JobRequest
from hal.controller.jobs import new_row, request_json
from hal.controller.learning import relearn
from hal.controller.store import Store, job_attempts, sqlite_url
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor

REQ = JobRequest(script="#!/bin/sh\nsleep 100\n", nodes=1, tasks=1, time_limit=3600.0)


def _job(store: Store, jid: int, submit: float, values: dict[str, object]) -> None:
    with store.engine.begin() as conn:
        store.insert_jobs(conn, [new_row(jid, REQ, "ada", submit, None, request_json(REQ, []))], submit, "submitted")
        store.update_job(conn, jid, {"alloc_cpus": 1, **values})


def _attempt(store: Store, jid: int, start: float, end: float, state: str, cause: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(job_attempts).values(
                job_id=jid, restarts=0, state=state, cause=cause, start_time=start, end_time=end, nodelist="",
                alloc_cpus=1, alloc="", charged=True,
            )
        )  # fmt: skip


def _records(tmp_path: Path) -> Store:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    for jid, t in ((1, 10.0), (2, 200.0), (3, 400.0)):
        _job(store, jid, t, {"state": "COMPLETED", "start_time": t + 1, "end_time": t + 101})
    _job(store, 4, 600.0, {"state": "CANCELLED", "start_time": 601.0, "end_time": 608.0})  # scancel after 7 s
    _job(store, 5, 700.0, {"state": "NODE_FAIL", "start_time": 701.0, "end_time": 704.0})
    _job(store, 6, 800.0, {"state": "COMPLETED", "start_time": 820.0, "end_time": 930.0})  # its second run: 110 s
    _attempt(store, 6, 801.0, 810.0, "REQUEUED", "requeued by root")  # its first, cut short after 9 s
    _job(store, 7, 1000.0, {"state": "PENDING", "restarts": 1})  # finished (120 s), then taken back by hal requeue
    _attempt(store, 7, 1001.0, 1121.0, "REQUEUED", "requeued by root after it ended COMPLETED")
    return store


def test_relearn_leaves_out_cut_short_runs_and_forgets_their_jobs(tmp_path: Path) -> None:
    store = _records(tmp_path)
    gbm = GbmPredictor()
    assert relearn(gbm, store) == 8  # every run that ended is read
    learned = sorted(r for r, _ in gbm.history.users["ada"].runs)
    assert learned == [100.0, 100.0, 100.0, 110.0, 120.0]  # not the 7 s cancel, 3 s node failure or 9 s requeue
    assert gbm.completions == 5 and gbm.learned_until == 1121.0
    assert set(gbm.pending) == {7}  # back in the queue after its requeue: predicted again, its row frozen then
    assert gbm.history.users["ada"].outstanding == 1  # job 7 only: the cut-short jobs are no longer outstanding
    last2 = LastTwo()
    relearn(last2, store)
    assert list(last2.history["ada"]) == [110.0, 120.0]
    store.close()


def test_which_ends_teach_the_predictor() -> None:
    for state in ("COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "STAGE_OUT"):
        assert learnable(state)
    for state in ("CANCELLED", "NODE_FAIL", "PREEMPTED", "REQUEUED"):
        assert not learnable(state)
    assert not learnable_attempt("NODE_FAIL", "node n1 failed")
    assert not learnable_attempt("REQUEUED", "requeued by root")
    assert not learnable_attempt("REQUEUED", "requeued by root after it ended CANCELLED")
    assert learnable_attempt("REQUEUED", "requeued by root after it ended TIMEOUT")
    assert not learnable_attempt("REQUEUED", None)

"""A kill -9 loses nothing of the live gbm model, even for a job that ended before the model file was last saved
and was then taken back with `hal requeue` and ran again (QA: the relearn replayed the job's return to the queue
only if its first run ended after the save, so the rerun had no frozen input and was dropped: 542 vs 543 runs)."""

from __future__ import annotations

import time
from pathlib import Path

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.learning import open_predictor, relearn, save_predictor
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.requeue import requeue
from hal.controller.store import Store, sqlite_url
from hal.engine.predict.gbm import GbmPredictor
from hal.executors.local import LocalExecutor
from tests.integration.livekit import EXAMPLE
from tests.integration.test_live_learning import fill_history


def _ended(store: Store, job: int, restarts: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = store.get(job) or {}
        if row.get("state") == "COMPLETED" and row.get("restarts") == restarts:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not complete run {restarts + 1}: {store.get(job)}")


def test_the_rerun_of_a_job_requeued_after_the_last_save_is_relearned_after_a_kill(tmp_path: Path) -> None:
    fill_history(tmp_path / "hal.db", "alice", 600)  # enough for a fitted model
    store = Store(sqlite_url(tmp_path / "hal.db"))
    live = open_predictor("gbm", None, tmp_path)
    relearn(live.predictor, store)
    gbm = live.predictor
    assert isinstance(gbm, GbmPredictor)
    ctl = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"), predictor=gbm)
    recover(ctl)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {}, {}, str(tmp_path), 0), "alice").job_ids
        _ended(store, job, 0)
        assert save_predictor(live) is not None  # learned_until: the job's end
        time.sleep(0.2)  # the requeue comes later than the save (a clean restart in the report)
        requeue(ctl, str(job), Identity("alice", admin=False))
        _ended(store, job, 1)
        deadline = time.monotonic() + 10
        while gbm.completions < 602 and time.monotonic() < deadline:  # the end is learned after the row is written
            time.sleep(0.05)
    finally:
        ctl.stop()  # no save: a kill -9
    assert gbm.completions == 602  # the history, the job's run and its rerun
    again = open_predictor("gbm", None, tmp_path)
    assert again.warning is None and isinstance(again.predictor, GbmPredictor)
    assert again.predictor.completions == 601
    assert relearn(again.predictor, store) == 1  # the rerun ended after the save; its first run before it
    assert again.predictor.completions == 602
    assert again.predictor.inputs[-1] == gbm.inputs[-1]  # frozen as live: at the requeue, not at the first end
    assert not again.predictor.pending  # nothing left waiting for an end
    store.close()

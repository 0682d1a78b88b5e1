"""A controller killed while a job's inputs were being staged (the job CONFIGURING, nothing launched): the restart
sends the job back to the queue, staged again, and says so; it said "node failure: no trace of the job in the
spool (launched elsewhere?)" in its log and in the requeued attempt `hal history -D` lists (QA)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from hal.controller.alive import ALIVE_FILE, Heartbeat
from hal.controller.attempts import attempts_of
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.stage_cut import CUT
from hal.controller.store import Store, sqlite_url
from hal.data.live import LiveStaging
from hal.data.live_config import data_table, enable
from hal.executors.local import LocalExecutor
from tests.integration.test_data_live import CLUSTER
from tests.integration.test_data_stage_out import DATA, _over, _slow_dataset


def _server(tmp_path: Path, extra: str = "") -> tuple[Controller, LiveStaging]:
    """A controller on ``tmp_path``'s records and spool as `hal server` starts one: its data plane, then recover."""
    path = tmp_path / "c.toml"
    path.write_text(CLUSTER + DATA.format(root=tmp_path) + extra)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool"))
    staging = enable(ctl, data_table(path) or {})
    recover(ctl)
    return ctl, staging


def _until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_caught_staging_by_a_restart_is_staged_again_and_no_node_failure_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctl, staging = _server(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "stuck")
    ctl.start()
    try:
        req = build_request('#!/bin/sh\ntest -s "$HAL_DATA/stuck"\n', {"input-data": "stuck"}, {}, str(tmp_path), 0)
        (job,) = ctl.submit(req, "alice").job_ids
        _until(lambda: job in staging.staging)
    finally:  # the server dies mid-copy: its records say RUNNING, and nothing was launched
        ctl.stop()
        staging.stager.closing.set()  # its copy gives up at the gate, touching no record; its locks go
        gate.set()
        staging.shutdown()
    caplog.set_level(logging.INFO, "hal.controller")
    after, again = _server(tmp_path)
    try:
        (attempt,) = attempts_of(after.store, [job])[job]
        assert (attempt["state"], attempt["cause"]) == ("REQUEUED", f"{CUT}; staged again")  # hal history -D
        assert attempt["restarts"] == 0 and (after.store.get(job) or {})["restarts"] == 1  # a requeue: Restarts=1
        assert not [e for e in after.store.events_of(job) if "node failure" in str(e["cause"])]
        said = caplog.text
        assert f"job {job}: {CUT}; it goes back to the queue (staged again)" in said and "NODE_FAIL" not in said
        after.start()
        _until(_over(after, job))  # under the lock: its record is written before it leaves live
        row = after.store.get(job) or {}
        assert row["state"] == "COMPLETED" and row["restarts"] == 1, row  # its input arrived the second time
    finally:
        after.stop()
        again.shutdown()


def test_a_restart_mid_copy_counts_as_a_restart_but_uses_up_no_stage_in_retry(tmp_path: Path) -> None:
    """Restarts counts every requeue, as Slurm's does: the cut one and a failed stage-in's alike (the cut showed 0,
    a failed stage-in's 1, QA). Only failed stage-ins use up max_requeues: with one allowed, the job caught by the
    restart still gets its retry after its stage-in fails, and fails after the second."""
    extra = "attempts = 1\nbackoff = 0\nmax_requeues = 1\nrequeue_wait = 0\n"  # in [data], the file's last table
    ctl, staging = _server(tmp_path, extra)
    gate = _slow_dataset(tmp_path, staging, "stuck")
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "stuck"}, {}, str(tmp_path), 0),
                            "alice").job_ids  # fmt: skip
        _until(lambda: job in staging.staging)
    finally:  # the server dies mid-copy
        ctl.stop()
        staging.stager.closing.set()
        gate.set()
        staging.shutdown()
    (tmp_path / "stuck").unlink()  # its source is gone: every stage-in from now on fails
    after, again = _server(tmp_path, extra)
    try:
        assert (after.store.get(job) or {})["restarts"] == 1
        after.start()
        _until(lambda: job not in after.live)
    finally:
        after.stop()
        again.shutdown()
    row = after.store.get(job) or {}
    assert row["state"] == "FAILED" and row["cause"].startswith("stage-in failed"), row
    tries = [(a["restarts"], a["cause"].split(":")[0]) for a in attempts_of(after.store, [job])[job]]
    assert tries == [(0, f"{CUT}; staged again"), (1, "stage-in failed")], tries  # hal history -D
    assert row["restarts"] == 2, row  # each requeue counted once, whatever caused it


def test_a_cut_stage_in_ends_at_the_last_beat_and_the_downtime_is_not_charged(tmp_path: Path) -> None:
    """Downtime between the kill and the restart: the cut attempt ends at the dead controller's last beat (its copy
    ran in that process and stopped with it), so its user is not charged the downtime (QA: it ended at the restart)."""
    ctl, staging = _server(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "stuck")
    mark = Heartbeat(tmp_path / ALIVE_FILE)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "stuck"}, {}, str(tmp_path), 0),
                            "alice").job_ids  # fmt: skip
        _until(lambda: job in staging.staging)
        mark.beat()  # its last sign of life: the kill -9 comes right after
        killed = time.time()
    finally:
        ctl.stop()
        staging.stager.closing.set()
        gate.set()
        staging.shutdown()
    time.sleep(2.5)  # the server is down
    path = tmp_path / "c.toml"
    later = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool"))
    again = enable(later, data_table(path) or {})
    later.down_since = Heartbeat(tmp_path / ALIVE_FILE).last()
    recover(later)
    try:
        (attempt,) = attempts_of(later.store, [job])[job]
        assert attempt["end_time"] <= killed + 0.5, (attempt, killed)
        assert later.sched.ledger.usage(time.time())["alice"] < 1.0  # 1 CPU for the moment it staged
    finally:
        again.shutdown()

"""`hal requeue` of a job staging its inputs (CONFIGURING): scontrol requeue takes a configuring job, as running."""

from __future__ import annotations

from pathlib import Path

from hal.controller.attempts import attempts_of
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.requeue import requeue
from tests.integration.test_data_stage_out import _controller, _over, _slow_dataset, _until

ALICE = Identity("alice", admin=False)


def test_a_configuring_job_is_requeued_its_copy_stopped(tmp_path: Path) -> None:
    """QA: refused with 'a pending job is already queued' (the job was not pending)."""
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "hang")
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "hang"}, {}, str(tmp_path), 0)
        (jid,) = ctl.submit(req, "alice").job_ids
        _until(lambda: jid in staging.staging)
        assert requeue(ctl, str(jid), ALICE) == [jid]
        _until(lambda: (ctl.store.get(jid) or {}).get("restarts") == 1)  # the copy stopped; back in the queue
        row = ctl.store.get(jid) or {}
        assert row["restarts"] == 1 and row["state"] in ("PENDING", "RUNNING"), row
        (attempt,) = attempts_of(ctl.store, [jid])[jid]
        assert attempt["state"] == "REQUEUED" and "requeued by alice" in attempt["cause"], attempt
        assert jid not in ctl.cancelling and jid not in ctl.requeueing
        gate.set()  # the new attempt's copy goes through, and the job runs
        _until(_over(ctl, jid))
    finally:
        gate.set()
        ctl.stop()
    row = ctl.store.get(jid) or {}
    assert row["state"] == "COMPLETED" and row["restarts"] == 1, row
    cache = tmp_path / "cache"
    assert not [p for p in cache.rglob("*") if ".partial" in p.name]  # the stopped copy left nothing behind


def test_a_job_cancelled_while_staging_then_requeued_runs(tmp_path: Path) -> None:
    """The cancel's mark outlived it: the requeued job's new copy stopped at once and it ended CANCELLED again."""
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "later")
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "later"}, {}, str(tmp_path), 0)
        (jid,) = ctl.submit(req, "alice").job_ids
        _until(lambda: jid in staging.staging)
        ctl.cancel(str(jid), ALICE)
        _until(lambda: jid not in staging.staging)
        gate.set()
        assert requeue(ctl, str(jid), ALICE) == [jid]
        _until(_over(ctl, jid))
    finally:
        gate.set()
        ctl.stop()
    row = ctl.store.get(jid) or {}
    assert row["state"] == "COMPLETED" and row["restarts"] == 1, row

"""A job staging its inputs (CONFIGURING) as `hal show` and `hal queue` print it: its time limit runs from the
launch, so while it stages RunTime/TIME are 0:00 and EndTime is Unknown (QA: RunTime=00:00:30 TimeLimit=00:00:20
and an EndTime already past, on a job nothing would kill), as Slurm restarts StartTime when CONFIGURING ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hal.api.app import create_app
from hal.api.metrics import Metrics
from hal.cli import show as show_cli
from hal.cli import squeue_format
from hal.cli.live import stamp
from hal.cli.queue import queue_table
from hal.controller.auth import Authenticator, Identity, create_token
from hal.controller.directives import build_request
from tests.integration.test_data_stage_out import _controller, _over, _slow_dataset, _until

STAGING = 2.0  # how long the job stays in staging, seconds: clearly more than SLACK
SLACK = 0.5  # clock rounding between the server's stamp and the test's


def _fields(lines: list[str]) -> dict[str, str]:
    """hal show's Key=Value pairs."""
    return dict(w.split("=", 1) for line in lines for w in line.split() if "=" in w)


def _seen(client: TestClient, auth: dict[str, str], job: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job as `hal show` reads it (GET /v1/jobs/ID) and as `hal queue` does (GET /v1/jobs)."""
    one = client.get(f"/v1/jobs/{job}", params={"start": "true"}, headers=auth)
    listed = client.get("/v1/jobs", headers=auth)
    assert one.status_code == 200 and listed.status_code == 200, (one.text, listed.text)
    return one.json(), next(r for r in listed.json()["jobs"] if r["job_id"] == job)


def test_a_staging_jobs_clock_has_not_started(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "slow")
    auth = {"Authorization": f"Bearer {create_token(ctl.store, 'alice', admin=True, label='test')}"}
    ctl.start()
    try:
        opts = {"input-data": "slow", "time": "0:20"}
        (jid,) = ctl.submit(build_request("#!/bin/sh\nsleep 5\n", opts, {}, str(tmp_path), 0), "alice").job_ids
        _until(lambda: jid in staging.staging)
        time.sleep(STAGING)  # long enough for the old clock to show seconds of run time
        with TestClient(create_app(ctl, Authenticator(ctl.store), Metrics(ctl))) as client:
            rec, listed = _seen(client, auth, jid)
            assert rec["state"] == "CONFIGURING" and listed["state"] == "CONFIGURING", (rec, listed)
            assert rec["elapsed"] == 0.0 and listed["elapsed"] == 0.0, (rec, listed)
            shown = _fields(show_cli._lines(rec))
            assert shown["RunTime"] == "00:00:00" and shown["TimeLimit"] == "00:00:20", shown
            assert shown["EndTime"] == "Unknown" and shown["StartTime"] != "Unknown", shown  # StartTime: allocation
            row = queue_table([listed]).splitlines()[1].split()
            assert row[row.index("CF") + 1] == "0:00", row  # ST, then TIME
            assert squeue_format.render("%M|%e|%L", listed) == "0:00|N/A|0:20"
            opened = time.time()
            gate.set()  # the copy ends; the job launches and its clock starts
            _until(lambda: jid not in staging.staging and (ctl.store.get(jid) or {}).get("state") == "RUNNING")
            rec, listed = _seen(client, auth, jid)
            since = time.time() - opened  # the launch came after the gate opened: its clock counts at most this
        # counted from the launch: a fixed bound (1.3 s) was thin on a loaded machine; one counted from the
        # allocation adds the whole staging time (STAGING and more), far above the slack
        assert rec["state"] == "RUNNING" and rec["elapsed"] <= since + SLACK, (rec, since)
        shown = _fields(show_cli._lines(rec))
        assert shown["EndTime"] == stamp(rec["start_time"] + 20), shown
        ctl.cancel(str(jid), Identity("alice", admin=False))
        _until(_over(ctl, jid))
    finally:
        gate.set()
        ctl.stop()

"""`hal explain` names the state `hal show` and `hal queue` show (QA LOW-5: RUNNING while they said CONFIGURING
during a stage-in), read from the server's own record of a job whose stage-in hangs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hal.api.app import create_app
from hal.api.metrics import Metrics
from hal.cli import explain as explain_cli
from hal.cli import show as show_cli
from hal.controller.auth import Authenticator, Identity, create_token
from hal.controller.directives import build_request
from tests.integration.test_data_stage_out import _controller, _over, _slow_dataset, _until


def test_explain_says_configuring_while_the_inputs_are_staged(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "slow")
    auth = {"Authorization": f"Bearer {create_token(ctl.store, 'alice', admin=True, label='test')}"}
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "slow"}, {}, str(tmp_path), 0)
        (jid,) = ctl.submit(req, "alice").job_ids
        _until(lambda: jid in staging.staging)
        with TestClient(create_app(ctl, Authenticator(ctl.store), Metrics(ctl))) as client:
            got = client.get(f"/v1/jobs/{jid}", params={"start": "true"}, headers=auth)  # as hal explain reads it
            rec = got.json()
        assert "JobState=CONFIGURING" in " ".join(show_cli._lines(rec))
        header, *why = explain_cli.state_lines(rec)
        assert header.startswith(f"job {jid}: CONFIGURING "), header
        assert why and "staged" in why[0], why
        stopping = explain_cli.state_lines({**rec, "state": "RUNNING", "completing": True})[0]
        assert f"job {jid}: COMPLETING " in stopping, stopping  # as hal show and hal queue say it (CG)
        ctl.cancel(str(jid), Identity("alice", admin=False))
        gate.set()
        _until(_over(ctl, jid))
    finally:
        gate.set()
        ctl.stop()

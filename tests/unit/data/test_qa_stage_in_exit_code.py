"""A job whose stage-in failed for good ends FAILED with a non-zero exit code (QA LOW-4: ``ExitCode=0:0`` beside
FAILED read as success to scripts testing it). 1:0, as Slurm records for a batch job that failed to launch and as
the dev runner records a launch that failed (hal/controller/devrunner.py)."""

from __future__ import annotations

import time
from pathlib import Path

from hal.api.views import ended_reason
from hal.controller.directives import build_request
from hal.data.catalog import Dataset
from tests.integration.test_data_live import data_controller


def test_a_failed_stage_in_records_exit_code_1(tmp_path: Path) -> None:
    data = {"cache_bytes": "4M", "attempts": 1, "backoff": 0.01, "max_requeues": 0}
    ctl, staging = data_controller(tmp_path, {**data, "catalog": str(tmp_path / "catalog.json")})
    gone = tmp_path / "gone.bin"  # registered, then removed: every source fails
    staging.stager.catalog.register(Dataset("gone", 5, "sha256:" + "0" * 64, str(gone)))
    ctl.start()
    try:
        (job,) = ctl.submit(
            build_request("#!/bin/sh\ntrue\n", {"input-data": "gone"}, {}, str(tmp_path), 0), "al"
        ).job_ids
        deadline = time.monotonic() + 60
        while job in ctl.live and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ctl.stop()
        staging.shutdown()
    row = ctl.store.get(job) or {}
    assert row["state"] == "FAILED" and str(row["cause"]).startswith("stage-in failed"), (row["state"], row["cause"])
    assert (row["exit_code"], row["signal"] or 0) == (1, 0), row
    assert ended_reason(row) == "JobLaunchFailure"  # it never launched (QA: Reason=NonZeroExitCode)

"""Runs cut short (a user's cancel, an admin's requeue) are charged but not learned as runtimes, by a real server
and by its relearn after a restart: their elapsed time is only a lower bound on how long the job takes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hal.client import Client
from tests.integration.livekit import LiveServer

RUN_S = 3.0  # what the finished runs take
OPTS: dict[str, str | int | bool] = {"time": "10:00", "cpus-per-task": 2}


def _running(sdk: Client, job: int, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = sdk.get(job)
        if row["state"] == "RUNNING" and row.get("predicted_end") is not None:
            return row
        time.sleep(0.1)
    raise AssertionError(f"job {job} never ran: {sdk.get(job)}")


def _planned(sdk: Client) -> float:
    """The run time last2 plans for a new long job of the same user (then the job is cancelled)."""
    job = sdk.submit(wrap="sleep 60", options=OPTS)["job_id"]
    row = _running(sdk, job)
    sdk.cancel(job)
    assert sdk.wait(job, timeout=30)["state"] == "CANCELLED"
    return float(row["predicted_end"]) - float(row["start_time"])


def test_cancelled_and_requeued_runs_do_not_teach_the_predictor_live_or_after_a_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, "--estimate", "last2")
    live.start()
    try:
        with live.client() as sdk:
            done = [sdk.submit(wrap=f"sleep {RUN_S:g}", options=OPTS)["job_id"] for _ in range(2)]
            assert all(sdk.wait(j, timeout=60)["state"] == "COMPLETED" for j in done)
            assert _planned(sdk) >= RUN_S  # the finished runs; that job's cancel (at once) is not learned
            assert _planned(sdk) >= RUN_S  # (before the fix: about 1.5 s, the mean of 3 s and a cancel)
            job = sdk.submit(wrap="sleep 60", options=OPTS)["job_id"]
            _running(sdk, job)
            time.sleep(1.0)
            sdk.requeue(job)  # its first run ends after about a second and it runs again
            deadline = time.monotonic() + 30
            while sdk.get(job).get("restarts", 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            again = _running(sdk, job)
            assert float(again["predicted_end"]) - float(again["start_time"]) >= RUN_S
            sdk.cancel(job)
            assert sdk.wait(job, timeout=30)["state"] == "CANCELLED"
        live.stop()
        live.start()  # relearns from the records: the same runs, and no others
        with live.client() as sdk:
            assert _planned(sdk) >= RUN_S
    finally:
        live.stop()
    assert "relearned from" in live.log.read_text()

"""`hal queue --start` on a real server: the pending job's forecast start (p50, p90), as squeue --start shows it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.integration.livekit import LiveServer

WHOLE = "#!/bin/sh\n#SBATCH --nodes=4 --ntasks-per-node=2 --time={minutes}\nsleep {seconds}\n"


def test_pending_job_shows_its_forecast_start(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        with live.client() as sdk:
            first = sdk.submit(WHOLE.format(minutes=5, seconds=60))["job_id"]
            deadline = time.monotonic() + 30
            while (rec := sdk.get(first))["state"] != "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.1)
            second = sdk.submit(WHOLE.format(minutes=2, seconds=1))["job_id"]
            data = json.loads(live.cli("queue", "--start", "--json", check=True).stdout)
            pending = next(j for j in data["jobs"] if j["job_id"] == second)
            # No completions seen yet: planned on the running job's request (user estimates), 5 minutes.
            assert abs(pending["predicted_start"] - (rec["start_time"] + 300)) < 1.0
            assert pending["predicted_start_p90"] >= pending["predicted_start"]
            table = live.cli("queue", "--start", check=True).stdout
            assert "START_TIME" in table and "START_P90" in table
            line = next(row for row in table.splitlines() if row.lstrip().startswith(str(second)))
            assert "N/A" not in line
            show = live.cli("show", str(second), check=True).stdout
            assert "planned start" in show and "at 90%" in show
            sdk.cancel(second)
            sdk.cancel(first)
    finally:
        live.stop()


def test_forecasts_count_array_tasks_held_by_their_limit_and_begin_times(tmp_path: Path) -> None:
    """Tasks a %limit keeps out of the engine still run before the job queued behind them: forecasts count
    them (the job behind was forecast after the first task alone), and they and --begin jobs get forecasts."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        with live.client() as sdk:
            arr = sdk.submit(WHOLE.format(minutes=5, seconds=60), options={"array": "0-3%1"})
            deadline = time.monotonic() + 30
            while (rec := sdk.get(arr["job_ids"][0]))["state"] != "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.1)
            behind = sdk.submit(WHOLE.format(minutes=2, seconds=1))["job_id"]
            later = sdk.submit(wrap="true", options={"begin": "now+7200", "ntasks": "1", "time": "1:00"})["job_id"]
            after = sdk.submit(wrap="true", options={"dependency": f"afterok:{arr['job_id']}", "time": "1:00"})[
                "job_id"
            ]
            data = {
                j["job_id"]: j for j in json.loads(live.cli("queue", "--start", "--json", check=True).stdout)["jobs"]
            }
            t0 = rec["start_time"]
            tasks = [data[j]["predicted_start"] for j in arr["job_ids"][1:]]
            assert [round(t - t0) for t in tasks] == [300, 600, 900]  # one after another, each planned 5 minutes
            assert abs(data[behind]["predicted_start"] - (t0 + 1200)) < 1.0  # after all four, not after the first
            assert abs(data[later]["predicted_start"] - data[later]["submit_time"] - 7200) < 2.0
            assert data[after]["predicted_start"] >= t0 + 1200 - 1.0  # after the whole array (it showed N/A)
            for job in (arr["job_id"], behind, later, after):
                sdk.cancel(job)
    finally:
        live.stop()

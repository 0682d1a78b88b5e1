"""`hal queue` lists pending jobs in the order they will start, and `hal show` gives each its place (squeue's
priority order): jobs were listed by id and no command said which pending job was next."""

from __future__ import annotations

import json
import time

from hal.client import Client
from tests.integration.livekit import LiveServer


def test_pending_jobs_carry_their_place_in_the_queue(sdk: Client, server: LiveServer) -> None:
    blocker = sdk.submit(wrap="sleep 60", options={"ntasks": "8", "time": "5:00"})["job_id"]
    wide = sdk.submit(wrap="true", options={"ntasks": "8", "time": "1:00"})["job_id"]
    held = sdk.submit(wrap="true", options={"ntasks": "1", "hold": True})["job_id"]
    small = sdk.submit(wrap="true", options={"ntasks": "2", "time": "1:00"})["job_id"]
    try:
        deadline = time.monotonic() + 30
        while sdk.get(blocker)["state"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        listed = json.loads(server.cli("queue", "--json", check=True).stdout)["jobs"]
        places = {j["job_id"]: j.get("queue_position") for j in listed}
        assert places[wide] == 1 and places[small] == 2 and places[held] is None
        assert [j["job_id"] for j in listed] == [blocker, wide, small, held]  # running, then the order, held last
        rows = {line.split()[0]: line.split() for line in server.cli("queue", check=True).stdout.splitlines()[1:]}
        assert rows[str(wide)][6] == "4"  # 8 tasks on 2-CPU nodes: at least 4 nodes, as squeue shows (it said 1)
        shown = " ".join(server.cli("show", str(small), check=True).stdout.split())
        assert "QueuePosition=2" in shown
        told = " ".join(server.cli("explain", str(small), check=True).stdout.split())  # it said only the state
        assert "queue position: 2" in told and "asks for: cpu=2" in told and "why: jobs with a higher" in told
        told = " ".join(server.cli("explain", str(wide), check=True).stdout.split())  # QA: said node=1, queue 4
        assert "node=4" in told
    finally:
        for job in (blocker, wide, held, small):
            sdk.cancel(job)


def test_a_second_server_on_the_same_home_is_refused(server: LiveServer) -> None:
    """Two controllers on one HAL_HOME launched the same jobs and failed one with 'still running here'."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "hal", "server", "--home", str(server.home), "--port", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "another HAL server (pid" in said and "already runs on" in said, said
    assert json.loads((server.home / "server.json").read_text())["url"] == server.url  # not overwritten


def test_cancel_takes_a_range_of_array_tasks(sdk: Client, server: LiveServer) -> None:
    """scancel 12_[2-3,5]: refused as 'not a job id'."""
    arr = sdk.submit(wrap="true", options={"array": "0-7", "hold": True})
    first = arr["job_id"]
    server.cli("cancel", f"{first}_[2-3,5]", check=True)
    states = {t["array_task_id"]: t["state"] for t in sdk.get(first)["tasks"]}
    assert [k for k, v in sorted(states.items()) if v == "CANCELLED"] == [2, 3, 5]
    assert server.cli("cancel", f"{first}_[9]").returncode != 0  # no such task
    sdk.cancel(first)


def test_singleton_waits_for_the_users_job_of_the_same_name(sdk: Client, server: LiveServer) -> None:
    """--dependency=singleton was refused as an unknown dependency type."""
    first = sdk.submit(wrap="sleep 2", options={"job-name": "solo"})["job_id"]
    second = sdk.submit(wrap="true", options={"job-name": "solo", "dependency": "singleton"})["job_id"]
    other = sdk.submit(wrap="true", options={"job-name": "else", "dependency": "singleton"})["job_id"]
    assert sdk.get(second)["dependencies"] == ["singleton"] and sdk.get(other)["dependencies"] == ["singleton"]
    done = sdk.wait(second, timeout=60)
    assert done["start_time"] >= sdk.get(first)["end_time"]
    sdk.wait(other, timeout=60)

"""`hal explain` for a pending job suggests a shorter --time when the user's jobs of that name finished well
inside theirs and the shorter limit lets backfilling start it sooner (both starts from the planner)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, cancel, finished, serve_cluster, show, submit, wait_running

CLUSTER = 'name = "one"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 2\nmem = "1G"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "advice", CLUSTER)


def _submit(server: LiveServer, *args: str) -> str:
    return server.cli("submit", "--parsable", *args, check=True).stdout.strip()


def _history(server: LiveServer, name: str) -> None:
    """Three completed runs of about a second of jobs named ``name``, submitted together (they waited for each
    other's end, and a CLI process each, to no purpose: each run is the same second)."""
    jobs = [submit(server, "sleep 1", job_name=name, time="30") for _ in range(3)]
    for job in jobs:
        assert finished(server, job) == "COMPLETED"


# Jobs are submitted, waited for and cancelled through the SDK: `hal explain` and the advice are the subject.
def test_a_shorter_time_that_backfills_is_suggested(server: LiveServer) -> None:
    _history(server, "quick")  # the history: jobs named "quick" take about a second
    runner = submit(server, "sleep 300", job_name="long", time="10", ntasks="1")  # 1 of 2 CPUs, 10 min
    wait_running(server, runner)
    head = submit(server, job_name="wide", time="10", ntasks="2")  # reserved at runner's end
    quick = submit(server, job_name="quick", time="30")  # 30 min: too long to backfill
    assert show(server, quick)["state"] == "PENDING"
    text = " ".join(server.cli("explain", quick, check=True).stdout.split())
    assert "try: --time=1:00 (your last 3 completed jobs of this name ran at most" in text, text
    assert f"apply it in place: hal update {quick} TimeLimit=1:00" in text, text
    got = server.client().advice(quick)["time"]
    assert got["sooner"] and got["time_limit"] == 60.0 and got["planned_start_with"] < got["planned_start"] - 300
    wide = " ".join(server.cli("explain", head, check=True).stdout.split())
    assert "try:" not in wide and "--time=" not in wide  # no runs of that name: nothing to go on
    server.cli("update", quick, "TimeLimit=1:00", check=True)  # the advice taken: it backfills now, in place
    assert finished(server, quick) == "COMPLETED"  # long before the runner's 10 minutes
    cancel(server, head, runner)


def test_no_advice_when_a_recent_run_hit_its_limit(server: LiveServer) -> None:
    """Runs killed at their limit are not passed over: they say the shorter limit does not fit."""
    _history(server, "flaky")
    killed = submit(server, "sleep 30", job_name="flaky", time="0:02")  # 2 s: TIMEOUT
    finished(server, killed)
    assert show(server, killed)["state"] == "TIMEOUT"
    runner = submit(server, "sleep 300", job_name="long", time="10", ntasks="2")
    wait_running(server, runner)
    flaky = submit(server, job_name="flaky", time="30")
    assert server.client().advice(flaky)["time"] is None
    assert "--time=" not in " ".join(server.cli("explain", flaky, check=True).stdout.split())
    cancel(server, flaky, runner)


def test_advice_is_the_owners_alone(server: LiveServer) -> None:
    other = server.new_user("eve")
    job = _submit(server, "-H", "--wrap", "true")
    denied = server.cli("explain", job, token=other)
    assert denied.returncode != 0 and "belongs to another user" in " ".join(denied.stderr.split())
    assert server.client().advice(job)["time"] is None  # no limit, no earlier runs: no advice
    server.cli("cancel", job, check=True)


def test_test_only_forecasts_and_submits_nothing(server: LiveServer) -> None:
    """sbatch --test-only: 'Job N to start at ... using P processors on nodes L in partition X', and no job N
    exists."""
    runner = _submit(server, "-J", "hold", "-t", "10", "-n", "1", "--wrap", "sleep 300")  # 1 of 2 CPUs, 10 min
    wait_running(server, runner)
    fits = server.cli("submit", "--test-only", "-t", "5", "--wrap", "true")
    said = " ".join(fits.stderr.split())
    assert fits.returncode == 0 and "to start at" in said, said
    assert "using 1 processors on nodes n000 in partition" in said, said  # sbatch names the nodes
    assert "nothing was submitted" in said
    got = json.loads(server.cli("submit", "--test-only", "-n", "2", "-t", "10", "--wrap", "true", "--json").stdout)
    now = time.time()
    assert got["test_only"] and got["cpus"] == 2 and got["start"] > now + 400  # after the runner's 10 minutes
    assert got["nodes"] == "n000"  # once the runner ends there
    assert (
        json.loads(server.cli("submit", "--test-only", "-t", "5", "--wrap", "true", "--json").stdout)["start"] < now + 5
    )
    script = server.work / "t.sh"
    script.write_text("#!/bin/sh\n#SBATCH --test-only -t 5\ntrue\n")
    assert "to start at" in server.cli("submit", str(script)).stderr  # in a script too, as sbatch reads it
    queued = [j["id"] for j in json.loads(server.cli("queue", "--json", check=True).stdout)["jobs"]]
    assert queued == [runner], queued  # nothing was submitted
    nxt = _submit(server, "-H", "--wrap", "true")
    assert int(nxt) == got["job_id"]  # the id it said the job would get
    bad = server.cli("submit", "--test-only", "-n", "9", "--wrap", "true")
    assert bad.returncode != 0 and "needs 9 cpus" in " ".join(bad.stderr.split()), bad.stderr
    for job in (runner, nxt):
        server.cli("cancel", job, check=True)

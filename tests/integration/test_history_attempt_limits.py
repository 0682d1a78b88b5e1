"""`hal history -D` (sacct --duplicates) on a real server: each attempt of a requeued job shows the time limit it
ran with. A --time-min job backfill cut ran its first attempt with the cut; the requeue gave it its --time back, and
the first attempt's row said that --time too (it read the job's current limit)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hal.cli.live import sacct_duration
from tests.integration.livekit import LiveServer, serve_cluster, show, until_state

CLUSTER = """name = "attemptlimits"
[[nodes]]
prefix = "t"
count = 2
cpus = 2
mem = "1G"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "attemptlimits", CLUSTER)


def submit(server: LiveServer, wrap: str, **options: str | int | bool) -> str:
    with server.client() as c:
        return str(c.submit(wrap=wrap, options={k.replace("_", "-"): v for k, v in options.items()})["job_id"])


def test_each_attempt_shows_the_limit_it_ran_with(server: LiveServer) -> None:
    first = submit(server, "sleep 60", ntasks=2, time="0:20")  # one node, for 20 s
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")  # both nodes, after it
    cut = submit(server, "sleep 120", ntasks=2, time="10:00", time_min="0:03")
    cut_limit = float(until_state(server, cut, "RUNNING")["time_limit"])
    assert 3 <= cut_limit <= 20  # lowered to the time left before the head's start
    with server.client() as c:
        c.cancel_many([first, head])  # nothing left to cut it for: its next start has its whole --time
        until_state(server, first, "CANCELLED")
        c.requeue(cut)
    deadline = time.monotonic() + 30.0
    while (rec := show(server, cut))["state"] != "RUNNING" or rec["restarts"] != 1:
        assert time.monotonic() < deadline, rec
        time.sleep(0.1)
    assert rec["time_limit"] == 600.0

    with server.client() as c:
        runs = c.get(cut, duplicates=True)["attempts"]
    assert [(r["state"], r["time_limit"]) for r in runs] == [("REQUEUED", cut_limit)]  # not its present 600
    cols = "JobID,State,Timelimit,TimelimitRaw"
    table = server.cli("history", "-D", "-P", "-n", "-o", cols, "-j", cut, check=True).stdout.split()
    assert table == [
        f"{cut}|REQUEUED|{sacct_duration(cut_limit)}|1",  # Slurm keeps minutes: a part-minute rounds up
        f"{cut}|RUNNING|00:10:00|10",
    ], table
    with server.client() as c:
        c.cancel(cut)

"""sbatch --time-min through a real server: backfill starts a job in the hole before the head's reservation with
its limit lowered (never below the minimum), the executor kills it at that limit, and the head starts on time;
a job whose minimum does not fit the hole waits, as in Slurm's backfill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster, show, until_state

CLUSTER = """name = "timemin"
[[nodes]]
prefix = "t"
count = 2
cpus = 2
mem = "1G"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "timemin", CLUSTER)


def submit(server: LiveServer, *args: str) -> str:
    return server.cli("submit", "--parsable", *args, check=True).stdout.strip()


def test_backfill_lowers_the_limit_to_the_hole_and_kills_at_it(server: LiveServer) -> None:
    first = submit(server, "-n", "2", "--time=0:12", "--wrap", "sleep 60")  # one node, killed at 12 s
    until_state(server, first, "RUNNING")
    head = submit(server, "-N", "2", "--exclusive", "--time=0:30", "--wrap", "true")  # both nodes, after it
    long_min = submit(server, "-n", "2", "--time=10:00", "--time-min=1:00", "--wrap", "sleep 60")
    short_min = submit(server, "-n", "2", "--time=10:00", "--time-min=0:05", "--wrap", "sleep 60")

    rec = until_state(server, short_min, "RUNNING")
    assert 5 <= rec["time_limit"] <= 12, rec  # lowered to the time left before the head's start
    said = server.cli("show", short_min, check=True).stdout
    assert "TimeMin=0:05" in said and "TimeLimit=0:" in said, said
    with server.client() as c:
        events = c._call("GET", f"/v1/jobs/{short_min}/events").json()["events"]
    assert any("TimeLimit lowered from 0:10:00 to" in str(e["cause"]) for e in events), [e["cause"] for e in events]
    assert show(server, long_min)["state"] == "PENDING"  # a minute does not fit the hole: it waits its turn

    ended = until_state(server, short_min, "TIMEOUT", timeout=40.0)
    assert ended["elapsed"] <= rec["time_limit"] + 3.0, ended  # killed at the lowered limit, not at 10 minutes
    started = until_state(server, head, "COMPLETED", timeout=40.0)
    assert started["start_time"] >= ended["end_time"] - 1.0, (started, ended)
    for job in (first, long_min):
        server.cli("cancel", job, check=True)


def test_a_minimum_above_the_limit_is_refused(server: LiveServer) -> None:
    res = server.cli("submit", "--time=1:00", "--time-min=5:00", "--wrap", "true")
    assert res.returncode != 0
    assert "invalid --time-min specification" in res.stderr + res.stdout, res


def test_time_min_in_a_script_is_acted_on_not_noted(server: LiveServer) -> None:
    (server.work / "tm.sh").write_text("#!/bin/bash\n#SBATCH --time=2:00\n#SBATCH --time-min=1:00\ntrue\n")
    res = server.cli("submit", "tm.sh", check=True)
    assert "time-min" not in res.stdout + res.stderr, res  # no "accepted but not acted on" note any more
    job = res.stdout.split()[-1]
    assert "TimeMin=1:00" in server.cli("show", job, check=True).stdout

"""sbatch --time-min through a real server: backfill starts a job in the hole before the head's reservation with
its limit lowered (never below the minimum), the executor kills it at that limit, and the head starts on time;
a job whose minimum does not fit the hole waits, as in Slurm's backfill. Accounting keeps what was asked: `hal
history --swf` exports the --time asked as SWF's Requested Time (not the scheduler's cut), and `hal history -D`
shows each attempt of a requeued cut job with the limit it ran with."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.cli.live import sacct_duration
from hal.sim.swf import read_swf
from tests.integration.livekit import LiveServer, serve_cluster, show, submit, until_state

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


def cancel(server: LiveServer, *jobs: str) -> None:
    """Jobs that may have ended already (killed at their cut): nothing to check of the answer."""
    with server.client() as c:
        c.cancel_many(list(jobs))


def test_backfill_lowers_the_limit_to_the_hole_and_kills_at_it(server: LiveServer) -> None:
    first = submit(server, "sleep 60", ntasks=2, time="0:08")  # one node, killed at 8 s
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")  # both nodes, after it
    long_min = submit(server, "sleep 60", ntasks=2, time="10:00", time_min="1:00")
    short_min = submit(server, "sleep 60", ntasks=2, time="10:00", time_min="0:03")

    rec = until_state(server, short_min, "RUNNING")
    assert 3 <= rec["time_limit"] <= 8, rec  # lowered to the time left before the head's start
    said = server.cli("show", short_min, check=True).stdout
    assert "TimeMin=00:00:03" in said and "TimeLimit=00:00:0" in said, said  # scontrol's format
    with server.client() as c:
        events = c._call("GET", f"/v1/jobs/{short_min}/events").json()["events"]
    assert any("TimeLimit lowered from 0:10:00 to" in str(e["cause"]) for e in events), [e["cause"] for e in events]
    assert show(server, long_min)["state"] == "PENDING"  # a minute does not fit the hole: it waits its turn

    ended = until_state(server, short_min, "TIMEOUT", timeout=40.0)
    assert ended["elapsed"] <= rec["time_limit"] + 3.0, ended  # killed at the lowered limit, not at 10 minutes
    started = until_state(server, head, "COMPLETED", timeout=40.0)
    assert started["start_time"] >= ended["end_time"] - 1.0, (started, ended)
    cancel(server, first, long_min)
    with server.client() as c:
        c.requeue(short_min)  # a new start: with the --time asked, which backfill may lower again
    assert show(server, short_min)["time_limit"] == 600.0
    cancel(server, short_min)


def test_a_minimum_above_the_limit_is_refused(server: LiveServer) -> None:
    res = server.cli("submit", "--time=1:00", "--time-min=5:00", "--wrap", "true")
    assert res.returncode != 0
    assert "invalid --time-min specification" in res.stderr + res.stdout, res


def test_time_min_in_a_script_is_acted_on_not_noted(server: LiveServer) -> None:
    (server.work / "tm.sh").write_text("#!/bin/bash\n#SBATCH --time=2:00\n#SBATCH --time-min=1:00\ntrue\n")
    res = server.cli("submit", "tm.sh", check=True)
    assert "time-min" not in res.stdout + res.stderr, res  # no "accepted but not acted on" note any more
    job = res.stdout.split()[-1]
    assert "TimeMin=00:01:00" in server.cli("show", job, check=True).stdout


def test_update_sets_the_minimum_of_a_pending_job(server: LiveServer) -> None:
    first = submit(server, "sleep 60", ntasks=2, time="2:00")
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")
    job = submit(server, "sleep 60", ntasks=2, time="10:00")
    assert show(server, job)["state"] == "PENDING"  # its whole limit would delay the head
    said = " ".join(server.cli("explain", job, check=True).stdout.split())
    assert "with a --time-min it could start now, but only with TimeLimit=1:" in said, said  # predicted: 10:00
    assert "under its predicted run 10:00" in said, said
    over = server.cli("update", job, "TimeMin=20:00")
    assert over.returncode != 0 and "invalid --time-min specification" in over.stderr + over.stdout, over
    server.cli("update", job, "TimeMin=0:05", check=True)  # scontrol update job TimeMin=
    rec = until_state(server, job, "RUNNING")
    assert 5 <= rec["time_limit"] <= 120, rec
    below = server.cli("update", job, "TimeLimit=0:02")  # under its minimum, running or not
    assert below.returncode != 0 and "invalid --time-min specification" in below.stderr + below.stdout, below
    cancel(server, first, head, job)


def test_a_cut_job_goes_on_when_the_head_it_was_cut_for_cannot_start(server: LiveServer) -> None:
    """The cut is the head's start as planned; an admin then gives the job ahead of the head more time, so at the
    cut the head still could not start: the cut job's limit moves to the head's new start (not past its --time)."""
    first = submit(server, "sleep 60", ntasks=2, time="0:12")
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")
    cut = submit(server, "sleep 60", ntasks=2, time="2:00", time_min="0:03")
    rec = until_state(server, cut, "RUNNING")
    assert rec["time_limit"] <= 12, rec
    with server.client() as c:
        c.update(first, TimeLimit="0:50")  # the administrator's token: a limit may be raised
    deadline = time.monotonic() + 20.0
    while (got := show(server, cut))["time_limit"] <= 12:
        assert got["state"] == "RUNNING" and time.monotonic() < deadline, got
        time.sleep(0.2)
    assert 30 <= got["time_limit"] <= 50, got  # to the head's new start, counted from its own start
    with server.client() as c:
        causes = [str(e["cause"]) for e in c._call("GET", f"/v1/jobs/{cut}/events").json()["events"]]
    assert any("the job it was cut for cannot start before then" in why for why in causes), causes
    cancel(server, first, head, cut)


def test_a_cut_job_is_exported_with_the_time_it_asked_for(server: LiveServer, tmp_path: Path) -> None:
    first = submit(server, "sleep 60", ntasks=2, time="0:08")  # one node, killed at 8 s
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")  # both nodes, after it
    cut = submit(server, "sleep 60", ntasks=2, time="10:00", time_min="0:03")
    limit = until_state(server, cut, "RUNNING")["time_limit"]
    assert 3 <= limit <= 8
    until_state(server, cut, "TIMEOUT", timeout=40.0)  # killed at the cut
    until_state(server, head, "COMPLETED", timeout=40.0)
    trace = tmp_path / "site.swf"
    server.cli("history", "-a", "--swf", str(trace), check=True)
    recs = {r.job_id: r for r in read_swf(trace).records}
    assert recs[int(cut)].req_time == 600  # what the user asked, not the cut
    assert (recs[int(first)].req_time, recs[int(head)].req_time) == (8, 30)
    with server.client() as c:
        rec = c.get(cut)
    # the cut may move later while it runs: on a loaded machine the head could not start at the cut (first's
    # TIMEOUT came late), and the cut follows the head's start (the test above); it stays a cut of the 600 s asked
    assert limit <= rec["time_limit"] < 600 and (rec["time_lowered"], rec["time_asked"]) == (True, 600.0), rec


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
    cancel(server, cut)

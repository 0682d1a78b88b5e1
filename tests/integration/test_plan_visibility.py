"""QA (start forecasts) on a real server: a job without a time limit is planned on a hidden 1-hour default, which
hal show and hal explain now say; explain's queue position no longer reads as if job 1 started next; and
squeue --start scripts get %Y / -O SchedNodes (the nodes the planner holds for a pending job, else (null))."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.livekit import LiveServer, show, submit, until_state


def _booked(live: LiveServer, *jobs: str) -> None:
    """Until a cycle has booked the jobs' slots: their records name the nodes held for them (SCHEDNODES).
    A fixed 1 s before."""
    deadline = time.monotonic() + 30
    while not all((rec := show(live, job)).get("sched_nodes") for job in jobs):
        assert time.monotonic() < deadline, rec
        time.sleep(0.05)


def test_assumed_runtime_position_wording_and_schednodes(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('backfill = "conservative"\n')  # books a slot, with its nodes, for every pending job
    live = LiveServer(tmp_path, "--profile", str(profile))
    live.start()
    try:
        # submitted through the SDK: hal show, explain and queue are the subject
        big = submit(live, "sleep 300", exclusive=True, nodes="4")  # no -t, no history
        until_state(live, big, "RUNNING")
        first = submit(live, exclusive=True, nodes="2", time="5")
        second = submit(live, exclusive=True, nodes="1", time="5")
        _booked(live, first, second)  # a cycle books their slots

        shown = live.cli("show", big, check=True).stdout
        line = next(x for x in shown.splitlines() if "PredictedEnd=" in x)
        assert "(assumed: no time limit and no history, planned as a 1:00:00 run;" in line, line
        timed = live.cli("show", first, check=True).stdout
        assert "(assumed:" not in timed

        said = live.cli("explain", first, check=True).stdout
        assert "queue position: 1 (next in line)" in said, said
        said = live.cli("explain", second, check=True).stdout
        assert "queue position: 2 (1 job ahead)" in said, said

        got = live.cli("queue", "--start", "-o", "%.6i %Y", check=True).stdout.splitlines()
        assert got[0].split() == ["JOBID", "SCHEDNODES"]
        planned = dict(x.split() for x in got[1:])
        assert set(planned) == {first, second}
        assert planned[first].startswith("vn") and planned[second].startswith("vn"), planned
        assert live.cli("queue", "-O", "JobID,SchedNodes", check=True).returncode == 0
        everyone = live.cli("queue", "-t", "all", "-o", "%i %Y", check=True).stdout.splitlines()
        assert f"{big} (null)" in everyone  # not pending: no planned nodes, as squeue prints
        table = live.cli("queue", "--start", check=True).stdout
        assert "SCHEDNODES" in table.splitlines()[0]
    finally:
        live.stop()


def test_the_easy_head_and_the_jobs_behind_it_show_their_planned_nodes(tmp_path: Path) -> None:
    """QA: under the default profile (EASY) the head's SCHEDNODES stayed (null): a pass computes its shadow only
    when some candidate fits now, so the listing places it at its shadow itself. QA, later: the jobs behind the
    head had none either, where Slurm's backfill plans every job in its window on limits and squeue --start shows
    where; they get the nodes the forecasts' plan on requested limits starts them on, with their forecast (a
    listing without --start has none to show)."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        big = submit(live, "sleep 300", exclusive=True, nodes="4", time="10")
        until_state(live, big, "RUNNING")
        head = submit(live, exclusive=True, nodes="2", time="5")
        _booked(live, head)
        behind = submit(live, exclusive=True, nodes="2", time="5")  # the same size: behind the head by age
        deadline, got = time.monotonic() + 60, {}
        while not got.get(behind, "").startswith("vn"):  # forecasts are made in the background
            assert time.monotonic() < deadline, got
            time.sleep(0.2)
            listed = live.cli("queue", "--start", "-h", "-o", "%i %Y", check=True).stdout.splitlines()
            got = dict(x.split() for x in listed)
        assert got[head].startswith("vn"), got
        plain = dict(x.split() for x in live.cli("queue", "-h", "-o", "%i %Y", check=True).stdout.splitlines())
        assert plain[behind] == "(null)", plain
    finally:
        live.stop()

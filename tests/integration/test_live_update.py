"""`hal update` (Slurm's scontrol update job) on a real server: a pending job changes in place and keeps its
id and queue place, across a restart; a running job's time limit moves its supervisor's deadline."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import LiveServer, cancel, show, submit, until_state, wait_running


def _said(proc: object) -> str:
    return " ".join((getattr(proc, "stdout", "") + getattr(proc, "stderr", "")).split())


def test_pending_job_updates_in_place_and_survives_a_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        bob = live.new_user("bob")
        # jobs are submitted and cancelled through the SDK: `hal update` is the subject, not `hal submit`
        job, later = (submit(live, begin="now+3600", time="10:00", job_name="first", token=bob) for _ in range(2))
        shown = live.cli("update", job, "TimeLimit=5", "Comment=shorter", token=bob, check=True).stdout
        assert f"updated job {job}: TimeLimit=5 Comment=shorter" in _said_text(shown)
        rec = show(live, job)
        assert rec["time_limit"] == 300 and rec["comment"] == "shorter" and rec["state"] == "PENDING", rec
        raised = live.cli("update", job, "TimeLimit=20", token=bob)  # Slurm: only an administrator raises it
        assert raised.returncode == 1 and "only an administrator may raise a time limit" in _said(raised)
        nice = live.cli("update", f"JobId={job}", "Nice=-5", token=bob)
        assert nice.returncode == 1 and "only an administrator" in _said(nice)
        bad = live.cli("update", job, "TimeLimit=4", "Partition=nowhere", token=bob)  # refused whole
        assert bad.returncode == 1 and "invalid partition 'nowhere'" in _said(bad)
        assert show(live, job)["time_limit"] == 300
        assert "not a field hal update changes" in _said(live.cli("update", job, "Colour=red", token=bob))
        over = live.cli("update", job, "Partition=debug", "TimeLimit=20")  # as admin: over debug's 600 s
        assert over.returncode == 1 and "PartitionTimeLimit" in _said(over), _said(over)
        live.cli("update", job, "Partition=debug", "JobName=renamed", token=bob, check=True)
        live.cli("update", later, "Dependency=afterok:" + job, token=bob, check=True)
        self_dep = live.cli("update", later, f"Dependency=afterok:{later}", token=bob)
        assert self_dep.returncode == 1 and "cannot depend on itself" in _said(self_dep)
        both = live.cli("update", f"{job},{later}", "Comment=both", token=bob, check=True).stdout
        assert f"job {job}: Comment=both" in both and f"job {later}: Comment=both" in both
        with live.client(bob) as sdk:
            assert sdk.update(int(job), Nice=5) == [int(job)]  # an int value is sent as text
        live.kill()  # the update is in the records, not only in memory
        live.start()
        rec = show(live, job)
        kept = (rec["time_limit"], rec["partition"], rec["name"], rec["reason"])
        assert kept == (300, "debug", "renamed", "BeginTime"), rec
        assert show(live, later)["dependencies"] == [f"afterok:{job}"]
        live.cli("update", later, "StartTime=now", token=bob, check=True)
        assert show(live, later)["reason"] == "Dependency"
        live.cli("update", job, "StartTime=now", token=bob, check=True)  # --begin gone: it runs, then `later`
        until_state(live, job, "COMPLETED")
        until_state(live, later, "COMPLETED")
        wide = submit(live, ntasks="8", begin="now+3600")
        # 8 tasks on 2-CPU nodes: NODES, %D and NumNodes all say 4 (show said 1)
        assert live.cli("queue", "-h", "-j", wide, "-o", "%D", check=True).stdout.split() == ["4"]
        assert live.cli("queue", "-h", "-j", wide, "-o", "%Q", "-S", "-p", check=True).stdout.strip().isdigit()
        assert "NumNodes=4 NumTasks=8" in _said_text(live.cli("show", wide, check=True).stdout)
        assert "node=4" in _said_text(live.cli("show", wide, check=True).stdout)
        live.cli("update", wide, "NumTasks=2", check=True)  # an administrator's update of any job
        assert "NumNodes=1 NumTasks=2" in _said_text(live.cli("show", wide, check=True).stdout)
        cancel(live, wide)
        held = submit(live, hold=True)
        mixed = live.cli("update", f"{job},{held}", "Comment=last")  # job has ended: held still changes
        assert mixed.returncode == 1 and f"hal update {job}:" in _said(mixed) and f"updated job {held}" in _said(mixed)
        assert show(live, held)["comment"] == "last"
        cancel(live, held)
        ended = live.cli("update", job, "TimeLimit=1", token=bob)
        assert ended.returncode == 1 and "it has ended (COMPLETED)" in _said(ended)
        history = live.cli("history", "-j", job, "-o", "JobID,JobName,Timelimit,Partition", "-P", check=True).stdout
        assert f"{job}|renamed|00:05:00|debug" in history
    finally:
        live.stop()


def test_running_job_time_limit_moves_and_array_throttle(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        bob = live.new_user("bob")
        # first a 6 s job given 3 s, whose limit an administrator raises at once: it runs on through the checks
        # below (it was waited for alone) and is seen COMPLETED at the end
        long = submit(live, "sleep 6", time="0:03", token=bob)  # the SDK: `hal submit` is not the subject
        wait_running(live, long)
        live.cli("update", long, "TimeLimit=+1", check=True)  # an administrator adds a minute
        job = submit(live, "sleep 120", time="10:00", token=bob)
        wait_running(live, job)
        moved = live.cli("update", job, "Partition=debug", "ExcNodeList=vn003", token=bob)
        assert moved.returncode == 1 and "no longer pending execution" in _said(moved)
        assert "(not ExcNodeList, Partition)" in _said(moved)  # the field as typed (QA: exclude_nodes)
        assert live.cli("update", job, "TimeLimit=+5", token=bob).returncode == 1  # a raise: administrators only
        live.cli("update", job, "TimeLimit=0:03", token=bob, check=True)  # 3 s from its start: over at once
        rec = until_state(live, job, "TIMEOUT", timeout=20.0)
        assert rec["time_limit"] == 3 and "time limit of 3 s reached" in str(rec.get("cause", "")) + str(rec), rec
        debug = submit(live, "sleep 60", partition="debug", time="2")
        wait_running(live, debug)
        past = live.cli("update", debug, "TimeLimit=11")  # as admin, still inside its partition's 10:00
        assert past.returncode == 1 and "PartitionTimeLimit" in _said(past), _said(past)
        cancel(live, debug)
        arr = submit(live, array="0-3", begin="now+3600")
        part = live.cli("update", f"{arr}_1", "ArrayTaskThrottle=1")
        assert part.returncode == 1 and "whole array" in _said(part)
        live.cli("update", arr, "ArrayTaskThrottle=1", check=True)
        reasons = sorted(str(show(live, f"{arr}_{i}")["reason"]) for i in range(4))
        assert reasons == ["BeginTime", "JobArrayTaskLimit", "JobArrayTaskLimit", "JobArrayTaskLimit"], reasons
        live.cli("update", arr, "ArrayTaskThrottle=0", "StartTime=now", check=True)
        for i in range(4):
            until_state(live, f"{arr}_{i}", "COMPLETED")
        assert until_state(live, long, "COMPLETED", timeout=30.0)["time_limit"] == 63
    finally:
        live.stop()


def _said_text(text: str) -> str:
    return " ".join(text.split())


def test_dependency_updates_across_a_restart_cycles_arrays_and_forecasts(tmp_path: Path) -> None:
    """QA: a dependency on a later job FAILED that job at the next restart; a cycle was accepted (both waited
    forever); a job deferred behind an array's %limit stayed stuck when its dependency was removed; an array
    with a running task refused every update; forecasts kept a running job's old limit."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        # jobs are submitted and cancelled through the SDK: `hal update` is the subject, not `hal submit`
        x, y = (submit(live, time="1", begin="now+3600") for _ in range(2))
        live.cli("update", x, f"Dependency=afterok:{y}", check=True)
        loop = live.cli("update", y, f"Dependency=afterok:{x}")
        assert loop.returncode == 1 and "circular dependency" in _said(loop)
        live.kill()
        live.start()
        assert show(live, y)["state"] == "PENDING" and show(live, x)["reason"] == "Dependency"
        cancel(live, x, y)
        arr = submit(live, "sleep 300", array="0-3%1", time="10")
        wait_running(live, f"{arr}_0")
        late = submit(live, dependency=f"afterok:{arr}_3")
        live.cli("update", late, "Dependency=", check=True)
        until_state(live, late, "COMPLETED")
        live.cli("update", arr, "Nice=10", check=True)  # its pending tasks, as scontrol does
        assert show(live, f"{arr}_1")["state"] == "PENDING"
        cancel(live, arr)
        debug = submit(live, partition="debug", begin="now+60")
        over = live.cli("update", debug, "TimeLimit=UNLIMITED")
        assert over.returncode == 1 and "UNLIMITED is over 0:10:00 in partition 'debug'" in _said(over), _said(over)
        cancel(live, debug)
        blocker = submit(live, "sleep 120", ntasks="8", time="30")
        wait_running(live, blocker)
        waiting = submit(live, ntasks="8", time="1")
        live.cli("update", blocker, "TimeLimit=2", check=True)
        start = float(show(live, blocker)["start_time"])  # type: ignore[arg-type]
        queued = json.loads(live.cli("queue", "--start", "--json", check=True).stdout)["jobs"]
        planned = next(j for j in queued if str(j["id"]) == waiting)["predicted_start"]
        assert planned is not None and planned <= start + 125, planned - start  # not its old 30 minutes
        cancel(live, blocker, waiting)
    finally:
        live.stop()

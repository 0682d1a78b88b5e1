"""A real server killed (SIGKILL) while jobs run on its last node, restarted on a cluster file without that node:
it starts; as Slurm's controller does with a slurm.conf that lost a node under running jobs, the job there ends
NODE_FAIL with why (as `hal show` and `hal history` say) and its processes are killed, a --requeue one goes back
to the queue and later runs on a node that remains, and the jobs on the other nodes run on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.clusters import cluster_toml
from tests.integration.livekit import cancel, gated, restart_on, served, show, submit, until_state, wait_running
from tests.unit.controller.test_lost_nodes import alive, pid_of

BIG = cluster_toml(name="big", nodes=3, cpus=2, partitions=["batch"])
SMALL = cluster_toml(name="big", nodes=2, cpus=2, partitions=["batch"])  # n002, the last node, is removed
SCRIPT = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\nexec sleep {}\n"
GATED = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\n{}\n"


def test_jobs_on_a_node_the_new_cluster_file_removed_end_node_fail_or_are_requeued(tmp_path: Path) -> None:
    pids: dict[str, int] = {}
    go = tmp_path / "go"  # `short` ends when the test opens it, after the restart (it slept 4 s)
    try:
        with served(tmp_path, BIG) as live:

            def sub(script: str, **options: str | bool) -> str:  # the SDK: `hal submit` is not the subject
                return submit(live, script=script, time="5", **options)

            keep = sub(SCRIPT.format(60), nodelist="n000", ntasks="2")
            short = sub(GATED.format(gated(go)), nodelist="n001", ntasks="2")  # its CPUs take the requeued job
            lost = sub(SCRIPT.format(60), nodelist="n002")
            again = sub(SCRIPT.format(60), requeue=True)  # n002 is the one node with a CPU left
            for job in (keep, short, lost, again):
                wait_running(live, job)
                pids[job] = pid_of(live.work, int(job))
            assert show(live, again)["nodelist"] == "n002"
            # SIGKILL (the jobs run on under their supervisors), and a start on SMALL: the old code raised IndexError
            # in Machine.restore, and no server came up
            restart_on(live, SMALL)
            rec = until_state(live, lost, "NODE_FAIL")
            assert rec["cause"] == "node n002 is no longer in the cluster file", rec
            said = " ".join(live.cli("show", lost, check=True).stdout.split())
            assert "JobState=NODE_FAIL" in said and "Cause=node n002 is no longer in the cluster file" in said, said
            told = live.cli("history", "-j", lost, "-o", "JobID,State,Reason", "-P", check=True).stdout
            assert f"{lost}|NODE_FAIL|node n002 is no longer in the cluster file" in told, told
            assert not alive(pids[lost]) and not alive(pids[again])  # nothing runs unaccounted
            assert show(live, keep)["state"] == "RUNNING" and alive(pids[keep])
            assert show(live, short)["state"] == "RUNNING"  # it ran through the restart, and ends now
            go.touch()
            rec = until_state(live, again, "RUNNING", timeout=20)  # requeued, and run again once `short` ended
            assert rec["nodelist"] == "n001" and rec["restarts"] == 1, rec
            assert until_state(live, short, "COMPLETED")["nodelist"] == "n001"
            pids["again2"] = pid_of(live.work, int(again), not_=pids[again])
            told = live.cli("history", "-D", "-j", again, "-o", "JobID,State,Reason", "-P", check=True).stdout
            assert f"{again}|NODE_FAIL|node n002 is no longer in the cluster file" in told, told
            log = live.log.read_text()
            assert "Traceback" not in log and f"job {lost} ends NODE_FAIL: node n002 is no longer" in log, log[-3000:]
            cancel(live, keep, again)
    finally:
        for pid in pids.values():  # a failed check leaves nothing running
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

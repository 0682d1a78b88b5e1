"""A real server killed (SIGKILL) while jobs run on its last node, restarted on a cluster file without that node:
it starts; as Slurm's controller does with a slurm.conf that lost a node under running jobs, the job there ends
NODE_FAIL with why (as `hal show` and `hal history` say) and its processes are killed, a --requeue one goes back
to the queue and later runs on a node that remains, and the jobs on the other nodes run on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.clusters import cluster_toml
from tests.integration.livekit import restart_on, served, show, until_state, wait_running
from tests.unit.controller.test_lost_nodes import alive, pid_of

BIG = cluster_toml(name="big", nodes=3, cpus=2, partitions=["batch"])
SMALL = cluster_toml(name="big", nodes=2, cpus=2, partitions=["batch"])  # n002, the last node, is removed
SCRIPT = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\nexec sleep {}\n"


def test_jobs_on_a_node_the_new_cluster_file_removed_end_node_fail_or_are_requeued(tmp_path: Path) -> None:
    pids: dict[str, int] = {}
    try:
        with served(tmp_path, BIG) as live:

            def sub(seconds: int, *args: str) -> str:
                (live.work / f"job{seconds}.sh").write_text(SCRIPT.format(seconds))
                done = live.cli("submit", "--parsable", "-t", "5", *args, f"job{seconds}.sh", check=True)
                return done.stdout.strip()

            keep = sub(60, "-w", "n000", "-n", "2")
            short = sub(4, "-w", "n001", "-n", "2")  # ends after the restart: its CPUs take the requeued job
            lost = sub(60, "-w", "n002")
            again = sub(60, "--requeue")  # n002 is the one node with a CPU left
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
            rec = until_state(live, again, "RUNNING", timeout=20)  # requeued, and run again once `short` ended
            assert rec["nodelist"] == "n001" and rec["restarts"] == 1, rec
            assert until_state(live, short, "COMPLETED")["nodelist"] == "n001"
            pids["again2"] = pid_of(live.work, int(again), not_=pids[again])
            told = live.cli("history", "-D", "-j", again, "-o", "JobID,State,Reason", "-P", check=True).stdout
            assert f"{again}|NODE_FAIL|node n002 is no longer in the cluster file" in told, told
            log = live.log.read_text()
            assert "Traceback" not in log and f"job {lost} ends NODE_FAIL: node n002 is no longer" in log, log[-3000:]
            live.cli("cancel", keep, again, check=True)
    finally:
        for pid in pids.values():  # a failed check leaves nothing running
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

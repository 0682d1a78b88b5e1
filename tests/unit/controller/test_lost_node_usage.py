"""A job that ends NODE_FAIL at a restart because the cluster file lost its node is charged to fair share at once,
to its user in the engine's ledger (what orders the queue and `hal shares` shows) as to its account, and once: its
user's usage dropped until a second restart read the ended record (QA: bob 161 -> 81 -> 170)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.unit.controller.test_lost_nodes import alive, cluster, group, pid_of, server, submit


def test_a_job_lost_with_its_node_is_charged_to_its_user_once(tmp_path: Path) -> None:
    pid = 0
    try:
        with server(tmp_path, cluster(group("n[000-001]"))) as ctl:
            job = submit(ctl, tmp_path, nodelist="n001", ntasks="2")
            ctl.run_cycle()
            pid = pid_of(tmp_path, job)
            time.sleep(1.0)  # it runs a while: its usage is plain to see
        with server(tmp_path, cluster(group("n000"))) as ctl:
            row = ctl.store.get(job) or {}
            assert row["state"] == "NODE_FAIL", row
            ran = (row["end_time"] - row["start_time"]) * 2  # 2 CPUs
            assert ran >= 2.0
            now = ctl.clock()
            users, accounts = ctl.sched.ledger.usage(now), ctl.accounts.usage(now)
            assert abs(users.get("alice", 0.0) - ran) < 0.5, (users, ran)  # the old code: nothing for alice
            assert abs(accounts.get("alice", 0.0) - ran) < 0.5, (accounts, ran)
            ctl.run_cycle()  # the engine charges nothing more for it
            assert abs(ctl.sched.ledger.usage(ctl.clock()).get("alice", 0.0) - ran) < 0.5
        with server(tmp_path, cluster(group("n000"))) as ctl:  # a second restart reads the ended record: the same
            assert abs(ctl.sched.ledger.usage(ctl.clock()).get("alice", 0.0) - ran) < 0.5
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)

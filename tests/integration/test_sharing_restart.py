"""A controller restarted while --exclusive=user and --exclusive=topo jobs run (real processes, reattached) keeps
what each kept before: another user's job does not land beside the =user job or in the =topo job's block, while
the =user job's own user still shares its node."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from hal.api.views import nodes_view
from hal.controller.directives import build_request
from tests.clusters import cluster_toml
from tests.unit.controller.test_lost_nodes import alive, pid_of, server

# 4 nodes of 2 CPUs in two blocks of two (one switch each)
BLOCKS = cluster_toml(name="blocks", nodes=4, cpus=2, topology={"block": 1, "switch": 2})
SCRIPT = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\nexec sleep 60\n"


def submit(ctl: Any, tmp: Path, user: str, **options: str) -> int:
    opts = {"time": "5", **{k.replace("_", "-"): v for k, v in options.items()}}
    return int(ctl.submit(build_request(SCRIPT, opts, {}, str(tmp), 0), user).job_ids[0])


def state(ctl: Any, job: int) -> tuple[str, str]:
    row = ctl.store.get(job) or {}
    return row.get("state", ""), row.get("nodelist") or ""


def test_user_and_topo_jobs_keep_their_nodes_across_a_restart(tmp_path: Path) -> None:
    pids: dict[int, int] = {}
    try:
        with server(tmp_path, BLOCKS) as ctl:
            mine = submit(ctl, tmp_path, "bob", exclusive="user", nodelist="n000")
            topo = submit(ctl, tmp_path, "alice", exclusive="topo", nodelist="n002")  # holds n003 too
            ctl.run_cycle()
            pids = {job: pid_of(tmp_path, job) for job in (mine, topo)}
            assert (state(ctl, mine), state(ctl, topo)) == (("RUNNING", "n000"), ("RUNNING", "n002"))
        with server(tmp_path, BLOCKS) as ctl:  # the restart: both reattached
            assert (state(ctl, mine)[0], state(ctl, topo)[0]) == ("RUNNING", "RUNNING")
            assert [n["state"] for n in nodes_view(ctl)["nodes"]] == ["mix", "idle", "mix", "blocked"]
            beside = submit(ctl, tmp_path, "carol", nodelist="n000")  # n000 has a CPU free, but it is bob's
            held = submit(ctl, tmp_path, "carol", nodelist="n003")  # n003 is free, but in alice's block
            own = submit(ctl, tmp_path, "bob", nodelist="n000", time="1")  # bob's job shares his node
            wide = submit(ctl, tmp_path, "carol", ntasks="3")  # 3 CPUs free then, one of them held
            ctl.run_cycle()
            for job in (beside, held, wide):  # the old code ran them
                assert state(ctl, job)[0] == "PENDING", (job, state(ctl, job))
            assert state(ctl, own) == ("RUNNING", "n000")
            pids[own] = pid_of(tmp_path, own)
            for job in (mine, topo, own):
                ctl.executor.cancel(job, 0.0)
    finally:  # nothing of the test outlives it, whatever failed
        for job in range(1, 7):
            if job not in pids and (tmp_path / "home" / "spool" / "jobs" / str(job)).exists():  # it was started
                with contextlib.suppress(AssertionError):
                    pids[job] = pid_of(tmp_path, job, timeout=5.0)
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

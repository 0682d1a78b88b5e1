"""A server restarted on an emptied database (QA: `: > hal.db` after a kill -9) while a job it ran still runs: that
job, unknown to the database, is killed and said loudly (as Slurm kills the jobs slurmd reports that the controller
does not know), its spool folder is kept aside, and new job ids start above the spool's, so a new job neither
collides with it ("job N is still running here") nor runs beside it unaccounted."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path

import pytest

from tests.unit.controller.test_lost_nodes import alive, cluster, ended, group, pid_of, server, submit

QUICK = "#!/bin/sh\necho $$ > pid.$SLURM_JOB_ID\n"


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_a_job_the_emptied_database_does_not_know_is_killed_and_ids_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml = cluster(group("n[000-001]"))
    spool = tmp_path / "home" / "spool" / "jobs"
    pids: list[int] = []
    try:
        with server(tmp_path, toml) as ctl:  # leaving it is a server killed: the jobs run on
            first = submit(ctl, tmp_path, QUICK)
            orphan = submit(ctl, tmp_path)  # sleep 60
            ctl.run_cycle()
            pids += [pid_of(tmp_path, first), pid_of(tmp_path, orphan)]
            ended(tmp_path, first)
        supervisor = json.loads((spool / str(orphan) / "supervisor.pid").read_text())["pid"]
        db = tmp_path / "home" / "hal.db"
        for path in (db, db.with_name("hal.db-wal"), db.with_name("hal.db-shm")):
            path.unlink(missing_ok=True)
        db.touch()  # `: > hal.db`
        caplog.set_level(logging.WARNING, logger="hal.controller")
        with server(tmp_path, toml) as ctl:  # recovers on start
            assert _gone(pids[1]) and _gone(supervisor)  # the old code left both running
            said = caplog.text
            assert "the database holds no jobs but the spool" in said and "the database was lost or replaced" in said
            kept = [p for p in spool.iterdir() if p.name.startswith(f"{orphan}.orphan-")]
            assert len(kept) == 1 and (kept[0] / "spec.json").exists()  # its folder kept, moved aside
            assert f"job {orphan} runs but the database does not know it: killed (pid {supervisor})" in said
            assert f"its spool kept at {kept[0]}" in said
            new = submit(ctl, tmp_path)
            assert new == orphan + 1  # the old code gave id 1 again
            ctl.run_cycle()
            assert (ctl.store.get(new) or {})["state"] == "RUNNING"
            pids.append(pid_of(tmp_path, new))
            assert alive(pids[-1])
            ctl.executor.cancel(new, 0.0)
            assert _gone(pids[-1])
        with server(tmp_path, toml) as ctl:  # a later start: nothing more to say, ids still go on
            assert ctl.next_id == new + 1
    finally:  # nothing of the test outlives it, whatever failed
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_job_an_older_database_holds_as_pending_but_running_is_killed_and_runs_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An older copy of the database, from before the job started: the run it does not know is killed and kept
    aside, and the job, pending there, launches again under its id (the old code failed it: "still running here")."""
    toml = cluster(group("n[000-001]"))
    pids: list[int] = []
    try:
        with server(tmp_path, toml) as ctl:
            job = submit(ctl, tmp_path)
            ctl.run_cycle()
            pids.append(pid_of(tmp_path, job))
            with ctl.store.engine.begin() as conn:  # as the copy had it
                ctl.store.update_job(conn, job, {"state": "PENDING", "start_time": None, "nodelist": ""})
        caplog.set_level(logging.WARNING, logger="hal.controller")
        with server(tmp_path, toml) as ctl:
            assert _gone(pids[0])
            assert f"job {job} runs but the database holds it as pending: killed" in caplog.text
            ctl.run_cycle()
            pids.append(pid_of(tmp_path, job, not_=pids[0]))
            assert (ctl.store.get(job) or {})["state"] == "RUNNING" and alive(pids[-1])
            ctl.executor.cancel(job, 0.0)
            assert _gone(pids[-1])
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

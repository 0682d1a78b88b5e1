"""A controller started from another home on the same database after a kill -9 (a standby, or a home lost and made
again) finds running jobs it has no trace of: they may still run under the first home's supervisors, so a job
without --requeue ends NODE_FAIL once and is not started again (QA HIGH: it was requeued as "never ran" and ran
twice at once, both writing its output)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.livekit import LiveServer, finished, show, submit

SCRIPT = '#!/bin/sh\necho "start $$" >> {log}\nsleep 4\necho "end $$" >> {log}\n'


def test_a_job_another_home_may_still_run_is_not_run_again(tmp_path: Path) -> None:
    first = LiveServer(tmp_path / "a")
    first.start()
    runs = tmp_path / "runs.log"
    try:
        job = submit(first, script=SCRIPT.format(log=runs))
        deadline = time.monotonic() + 30
        while show(first, job)["state"] != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert show(first, job)["state"] == "RUNNING"
    finally:
        first.kill()
    database = f"sqlite:///{(first.home / 'hal.db').resolve()}"
    standby = LiveServer(tmp_path / "b", "--database", database)
    standby.start()
    try:
        token = first.token()  # the database's admin token: the standby's home made none (tokens live there)
        assert finished(standby, job, token=token) == "NODE_FAIL"
        with standby.client(token) as c:
            row = c.get(job)
        assert row["restarts"] == 0 and "no trace of the job in the spool" in row["cause"], row
        said = " ".join(standby.log.read_text().split())  # and how to get a token for this home (QA LOW)
        assert f"no token in {standby.home}: this database's administrators were made by another home" in said
        made = standby.cli("token", "create", "--user", "ops", "--admin", "--home", str(standby.home), "--json")
        assert made.returncode == 0, made.stderr
        time.sleep(5)  # the first home's run ends on its own meanwhile
        assert runs.read_text().count("start") == 1, runs.read_text()  # never started a second time
    finally:
        standby.stop()

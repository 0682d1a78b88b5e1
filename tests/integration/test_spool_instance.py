"""A supervisor reports to the spool instance that started it (QA: after `rm -rf` of a server's home, the old
server's supervisors, left running by its SIGTERM, wrote their jobs' ends into the new home, and new job 8 was
marked COMPLETED by old job 8's end while its own process ran on untracked)."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from hal.executors.api import ExecEventKind
from hal.executors.local import LocalExecutor
from tests.integration.test_local_executor import make_spec, wait_end, wait_for


def _executor(spool: Path) -> LocalExecutor:
    return LocalExecutor(spool, kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)


def test_an_old_homes_supervisor_does_not_end_the_new_homes_job(tmp_path: Path) -> None:
    spool, work = tmp_path / "home" / "spool", tmp_path / "work"
    work.mkdir()
    old = _executor(spool)
    old.launch(make_spec(1, "#!/bin/sh\nsleep 2\ntouch old-done\n", work))
    wait_for(lambda: old.spool.read(1, "started.json") is not None)
    old.shutdown()  # as a SIGTERMed server leaves it: the job runs on under its supervisor
    shutil.rmtree(tmp_path / "home")
    new = _executor(spool)  # the home made again: a new instance, whose first job has the old one's id
    try:
        new.launch(make_spec(1, "#!/bin/sh\nsleep 30\n", work))
        wait_for(lambda: (work / "old-done").exists(), timeout=20)
        deadline = time.monotonic() + 2.0  # the old supervisor records its end right after its script's
        while time.monotonic() < deadline:
            ended = [e for e in new.events() if e.kind is ExecEventKind.ENDED]
            assert not ended, ended  # the old code: COMPLETED, from old job 1's record
            time.sleep(0.05)
        assert new.spool.read(1, "record.json") is None
        new.cancel(1, grace=0.0)
        assert wait_end(new, 1).state.name == "CANCELLED"  # its own end still reaches it
    finally:
        new.shutdown(cancel_running=True)


def test_a_record_of_another_instance_is_ignored_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ex = _executor(tmp_path / "spool")
    try:
        ex.launch(make_spec(1, "#!/bin/sh\nsleep 30\n", tmp_path))
        record = {"job_id": 1, "state": "COMPLETED", "exit_code": 0, "signal": None, "start_time": None}
        record |= {"end_time": time.time(), "cpu_seconds": 0.0, "max_rss_mb": 0.0, "reason": "", "instance": "x"}
        ex.spool.write_record_once(1, record)
        ex.spool.mark("ended", 1)
        with caplog.at_level(logging.WARNING, logger="hal.executors.local"):
            assert not [e for e in ex.events() if e.kind is ExecEventKind.ENDED]
        assert "supervisor of another server instance (x, not" in caplog.text
        assert ex.spool.read(1, "record.json") is None and 1 not in ex.spool.marked("ended")
        ex.cancel(1, grace=0.0)
        assert wait_end(ex, 1).state.name == "CANCELLED"
    finally:
        ex.shutdown(cancel_running=True)

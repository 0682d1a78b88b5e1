"""A full spool disk (the kernel's own ENOSPC, from /dev/full) must never lose a job's end.

QA: with HAL's home on a full disk, a supervisor's exit record failed to write (and so did its fallback), and the
executor's NODE_FAIL record raised out of events() after it had stopped tracking the job: jobs stayed RUNNING
forever and, after a restart, jobs that exited 0 were NODE_FAIL. Now the supervisor keeps its record and retries
until space returns, and the executor keeps tracking a job whose NODE_FAIL it could not write."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from hal.executors import proctree
from hal.executors.local import LocalExecutor
from hal.executors.spool import Spool
from hal.model.job import JobState
from tests.integration.test_local_executor import make_spec, wait_end, wait_for

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and Path("/dev/full").exists()), reason="needs /dev/full"
)


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


@contextmanager
def disk_full(tmp: Path) -> Iterator[None]:
    """While open, the temporary file a writer makes (``tmp``) is /dev/full: its writes fail with ENOSPC as on a
    full disk. Writers remove their failed temporary file, so it is put back every few milliseconds."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.is_set():
            if not tmp.is_symlink():
                with suppress(FileExistsError):
                    tmp.symlink_to("/dev/full")
            time.sleep(0.001)

    thread = threading.Thread(target=keep, daemon=True)
    thread.start()
    while not tmp.is_symlink():
        time.sleep(0.001)
    try:
        yield
    finally:
        stop.set()
        thread.join()
        tmp.unlink(missing_ok=True)


def test_record_end_waits_for_space_and_cleans_up(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.job_dir(7).mkdir()
    record = {"job_id": 7, "state": "COMPLETED"}
    tmp = spool.file(7, f"record.json.{os.getpid()}.tmp")
    with disk_full(tmp):
        with pytest.raises(OSError):  # the plain write fails as the disk does
            spool.write_record_once(7, record)
        wait_for(tmp.is_symlink)  # put back
        begun = time.monotonic()
        assert not spool.record_end(7, record, retry_for=0.5)  # gives up when told to
        assert time.monotonic() - begun >= 0.25  # retried meanwhile
        assert spool.read(7, "record.json") is None and 7 not in spool.marked("ended")
        wait_for(tmp.is_symlink)
        done: list[bool] = []
        writer = threading.Thread(target=lambda: done.append(spool.record_end(7, record)))
        writer.start()
        time.sleep(0.8)
        assert not done  # still waiting for space
    writer.join(5)
    assert done == [True] and spool.read(7, "record.json") == record and 7 in spool.marked("ended")
    assert sorted(os.listdir(spool.job_dir(7))) == ["record.json"]  # no temporary file left behind
    assert not spool.record_end(8, record)  # a job directory gone: nothing to wait for


def test_a_job_that_ends_while_the_disk_is_full_is_completed_once_space_returns(
    ex: LocalExecutor,
    tmp_path: Path,
) -> None:
    go = tmp_path / "go"
    ex.launch(make_spec(1, f"#!/bin/sh\nwhile [ ! -e {go} ]; do sleep 0.02; done\necho done\n", tmp_path))
    wait_for(lambda: ex.spool.read(1, "started.json") is not None)
    sup = ex.spool.read(1, "supervisor.pid")
    assert sup is not None
    with disk_full(ex.spool.file(1, f"record.json.{sup['pid']}.tmp")):
        go.touch()
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # the job has exited; its end waits for space, its supervisor lives
            assert not [e for e in ex.events() if e.job_id == 1 and e.state is not None]
            time.sleep(0.05)
        assert proctree.alive(sup["pid"], sup["start"]) and ex.running() == [1]
        assert ex.spool.read(1, "record.json") is None
    ended = wait_end(ex, 1, timeout=10)
    assert ended.state is JobState.COMPLETED and ended.exit_code == 0, ended
    log = ex.spool.file(1, "supervisor.log")
    if log.exists():
        assert "cannot write its exit record" in log.read_text()


def test_a_node_fail_the_executor_cannot_record_is_retried_not_lost(
    ex: LocalExecutor,
    tmp_path: Path,
) -> None:
    ex.launch(make_spec(2, "#!/bin/sh\nsleep 60\n", tmp_path))
    wait_for(lambda: ex.spool.read(2, "started.json") is not None)
    sup = ex.spool.read(2, "supervisor.pid")
    assert sup is not None
    with disk_full(ex.spool.file(2, f"record.json.{os.getpid()}.tmp")):
        os.kill(sup["pid"], signal.SIGKILL)  # its keeper is gone: NODE_FAIL, which the full disk cannot take
        wait_for(lambda: not proctree.alive(sup["pid"], sup["start"]))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert not [
                e for e in ex.events() if e.job_id == 2 and e.state is not None
            ]  # no error out of events(), and no event yet
            time.sleep(0.05)
        assert ex.running() == [2]  # still tracked: the next check tries again
    ended = wait_end(ex, 2, timeout=10)
    assert ended.state is JobState.NODE_FAIL and "without recording" in ended.reason
    assert ex.running() == []

"""LocalExecutor with real processes: outputs, environment, affinity, limits, cancel, failures and refusals."""

from __future__ import annotations

import os
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hal.executors import proctree
from hal.executors.api import ExecEvent, ExecEventKind, LaunchSpec, NodeShare
from hal.executors.local import LocalExecutor
from hal.model.job import JobState

CPUS = sorted(os.sched_getaffinity(0))
PY = sys.executable


def make_spec(job_id: int, script: str, workdir: Path, **kw: object) -> LaunchSpec:
    base: dict[str, object] = dict(
        job_id=job_id,
        name=f"job{job_id}",
        user="alice",
        script=script,
        workdir=workdir,
        stdout="",
        stderr="",
        shares=(NodeShare("local0", (CPUS[-1],), 0),),
    )
    base.update(kw)
    return LaunchSpec(**base)  # type: ignore[arg-type]


_UNCLAIMED: weakref.WeakKeyDictionary[LocalExecutor, list[ExecEvent]] = weakref.WeakKeyDictionary()


def wait_end(ex: LocalExecutor, job_id: int, timeout: float = 20.0, seen: list[ExecEvent] | None = None) -> ExecEvent:
    """Polls events() like the controller's loop until job_id ends; other jobs' events wait for their turn."""
    deadline = time.monotonic() + timeout
    pending = _UNCLAIMED.setdefault(ex, [])
    while time.monotonic() < deadline:
        pending.extend(ex.events())
        for e in list(pending):
            if e.job_id != job_id:
                continue
            pending.remove(e)
            if seen is not None:
                seen.append(e)
            if e.kind is ExecEventKind.ENDED:
                return e
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


def test_single_job_outputs_env_affinity_and_accounting(ex: LocalExecutor, tmp_path: Path) -> None:
    script = (
        "#!/bin/bash\n"
        "env | grep -E '^(HAL|SLURM)_' | sort\n"
        "grep Cpus_allowed_list /proc/self/status\n"
        'echo "args: $1|$2" ; echo "mine: $MY_VAR"; echo to-stderr >&2\n'
        # 64 MiB touched and held past a few samples of the tree (watch_interval=0.2): a peak to measure
        f"{PY} -c 'import time; x = b\"x\" * (64 << 20); sum(range(3_000_000)); time.sleep(0.8)'\n"
    )
    spec = make_spec(
        7, script, tmp_path, stdout="%x-%j-%u-%N.out", stderr="err-%j%%.txt", args=("a", "b c"),
        partition="debug", env={"MY_VAR": "kept"}, time_limit=60.0,
    )  # fmt: skip
    ex.launch(spec)
    events: list[ExecEvent] = []
    ended = wait_end(ex, 7, seen=events)
    assert [e.kind for e in events if e.job_id == 7] == [ExecEventKind.STARTED, ExecEventKind.ENDED]
    assert ended.state is JobState.COMPLETED and ended.exit_code == 0 and ended.signal is None
    assert ended.start_time is not None and ended.start_time <= ended.time
    assert ended.cpu_seconds > 0.05  # the python child's loop is counted (CPU time of the whole tree)
    assert ended.max_rss_mb > 32  # the child's 64 MiB, sampled over the job's process tree
    out = (tmp_path / "job7-7-alice-local0.out").read_text()
    assert (tmp_path / "err-7%.txt").read_text() == "to-stderr\n"
    env = dict(line.split("=", 1) for line in out.splitlines() if line.startswith(("HAL_", "SLURM_")))
    for key, value in {
        "HAL_JOB_ID": "7", "SLURM_JOB_ID": "7", "SLURM_JOBID": "7", "HAL_JOB_NAME": "job7", "SLURM_JOB_NAME": "job7",
        "HAL_NODELIST": "local0", "SLURM_JOB_NODELIST": "local0", "HAL_NNODES": "1", "SLURM_NNODES": "1",
        "HAL_NTASKS": "1", "SLURM_NTASKS": "1", "HAL_CPUS_PER_TASK": "1", "SLURM_CPUS_PER_TASK": "1",
        "HAL_SUBMIT_DIR": str(tmp_path), "SLURM_SUBMIT_DIR": str(tmp_path), "HAL_PARTITION": "debug",
        "SLURM_JOB_PARTITION": "debug",
    }.items():  # fmt: skip
        assert env.get(key) == value, key
    assert f"Cpus_allowed_list:\t{CPUS[-1]}\n" in out  # affinity applied to the job's processes
    assert "args: a|b c\n" in out and "mine: kept\n" in out


def test_array_task_default_output_and_failure_exit_code(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(make_spec(31, "echo task $SLURM_ARRAY_TASK_ID of $HAL_ARRAY_JOB_ID\nexit 3\n", tmp_path,
                        array_job_id=30, array_task_id=1))  # fmt: skip
    ended = wait_end(ex, 31)
    assert ended.state is JobState.FAILED and ended.exit_code == 3 and ended.reason == "exit code 3"
    assert (tmp_path / "slurm-30_1.out").read_text() == "task 1 of 30\n"


def test_killed_by_signal_is_failed_with_the_signal(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(make_spec(8, "#!/bin/bash\nkill -SEGV $$\n", tmp_path))
    ended = wait_end(ex, 8)
    assert ended.state is JobState.FAILED and ended.signal == 11 and ended.exit_code is None
    assert "SIGSEGV" in ended.reason


def test_timeout_terminates_the_job(ex: LocalExecutor, tmp_path: Path) -> None:
    t0 = time.monotonic()
    ex.launch(make_spec(9, "sleep 30\n", tmp_path, time_limit=1.0))
    ended = wait_end(ex, 9)
    assert ended.state is JobState.TIMEOUT and "time limit" in ended.reason
    assert 0.9 < time.monotonic() - t0 < 10


def test_cancel_sigterm_then_sigkill_for_the_whole_group(ex: LocalExecutor, tmp_path: Path) -> None:
    script = "#!/bin/bash\nbash -c 'trap \"\" TERM; echo $$ > stubborn.pid; sleep 60' &\nwait\n"
    ex.launch(make_spec(10, script, tmp_path))
    pidfile = tmp_path / "stubborn.pid"
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip())
    stubborn = int(pidfile.read_text())
    info = proctree.stat(stubborn)
    assert info is not None
    t0 = time.monotonic()
    ex.cancel(10, grace=1.0)
    ended = wait_end(ex, 10)
    took = time.monotonic() - t0
    assert ended.state is JobState.CANCELLED and "SIGKILL after 1 s" in ended.reason
    assert 0.9 < took < 10, took  # the child ignoring SIGTERM got its grace period, then SIGKILL
    assert not proctree.alive(stubborn, info.start)


def test_memory_limit_kill_is_out_of_memory(ex: LocalExecutor, tmp_path: Path) -> None:
    script = f"#!{PY}\nblob = b'x' * (400 * 2**20)\n"  # per process: RLIMIT_DATA (or the cgroup) stops it
    ex.launch(make_spec(11, script, tmp_path, shares=(NodeShare("local0", (CPUS[-1],), 200),)))
    ended = wait_end(ex, 11)
    assert ended.state is JobState.OUT_OF_MEMORY, ended
    assert "out of memory" in ended.reason and ("MemoryError" in ended.reason or "cgroup" in ended.reason)


def test_memory_watchdog_limits_the_whole_tree(ex: LocalExecutor, tmp_path: Path) -> None:
    """Two processes of 90 MiB each stay under a per-process limit of 150 MiB but not under the job's 150 MiB."""
    hog = f"{PY} -c \"import time; blob = b'x' * (90 * 2**20); time.sleep(30)\""
    script = f"#!/bin/bash\n{hog} &\n{hog} &\nwait\n"
    ex.launch(make_spec(12, script, tmp_path, shares=(NodeShare("local0", (CPUS[-1],), 150),)))
    ended = wait_end(ex, 12)
    assert ended.state is JobState.OUT_OF_MEMORY, ended
    assert "watchdog" in ended.reason or "cgroup" in ended.reason
    assert ended.max_rss_mb > 150


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("", "script is empty"),
        ("#!/bin/sh\n\x00\x00ELF", "binary"),
        ("#" * (4 * 2**20 + 1), "limit is"),
        ("#!/no/such/interpreter\necho\n", "not found"),
    ],
)
def test_bad_scripts_fail_clearly(ex: LocalExecutor, tmp_path: Path, script: str, reason: str) -> None:
    ex.launch(make_spec(13, script, tmp_path))
    ended = wait_end(ex, 13)
    assert ended.state is JobState.FAILED and reason in ended.reason


def test_missing_workdir_and_output_dir_fail_clearly(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(make_spec(14, "echo\n", tmp_path / "nowhere"))
    ex.launch(make_spec(15, "echo\n", tmp_path, stdout="no/such/dir/%j.out"))
    os.mkfifo(tmp_path / "fifo")  # nobody reads it: the job fails at once rather than hanging its supervisor
    ex.launch(make_spec(19, "echo\n", tmp_path, stdout="fifo"))
    first, second, third = wait_end(ex, 14), wait_end(ex, 15), wait_end(ex, 19)
    assert first.state is JobState.FAILED and "working directory" in first.reason
    assert second.state is JobState.FAILED and "cannot open output file" in second.reason
    assert third.state is JobState.FAILED and "cannot open output file" in third.reason


def test_cancel_right_after_launch_never_runs_the_script(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(make_spec(16, "touch ran\nsleep 30\n", tmp_path))
    ex.cancel(16, grace=0.5)
    ended = wait_end(ex, 16)
    assert ended.state is JobState.CANCELLED
    if "before it started" in ended.reason:  # usually; a fast supervisor may have started it already
        assert not (tmp_path / "ran").exists() and ended.start_time is None


def test_relaunch_of_a_requeued_job_id_starts_fresh(ex: LocalExecutor, tmp_path: Path) -> None:
    ex.launch(make_spec(17, "exit 1\n", tmp_path))
    assert wait_end(ex, 17).state is JobState.FAILED
    ex.launch(make_spec(17, "echo second\n", tmp_path))
    assert wait_end(ex, 17).state is JobState.COMPLETED
    assert (tmp_path / "slurm-17.out").read_text() == "second\n"


def test_processes_left_behind_die_with_the_script(ex: LocalExecutor, tmp_path: Path) -> None:
    script = "setsid sh -c 'echo $$ > daemon.pid; exec sleep 60' &\nwhile [ ! -s daemon.pid ]; do sleep 0.01; done\n"
    ex.launch(make_spec(18, script, tmp_path))
    assert wait_end(ex, 18).state is JobState.COMPLETED
    daemon = proctree.stat(int((tmp_path / "daemon.pid").read_text()))  # None: already gone, as it should be
    if daemon is not None:
        wait_for(lambda: not proctree.alive(daemon.pid, daemon.start), 3)  # it had left the job's session

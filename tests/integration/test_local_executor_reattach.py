"""Reliability: the executor's owner dies with SIGKILL and a new executor reattaches; a dead supervisor is NODE_FAIL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from hal.executors import proctree
from hal.executors.api import ExecEventKind
from hal.executors.local import LocalExecutor
from hal.executors.supervisor import ALREADY_CLAIMED
from hal.model.job import JobState
from tests.integration.test_local_executor import make_spec, wait_end, wait_for

OWNER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from hal.executors.local import LocalExecutor
    from tests.integration.test_local_executor import make_spec
    tmp = Path(sys.argv[1])
    ex = LocalExecutor(tmp / "spool", kill_wait=0.5)
    ex.launch(make_spec(1, "sleep 0.3; echo quick; exit 4\\n", tmp))
    ex.launch(make_spec(2, "touch started2; sleep 2.5; echo slow done\\n", tmp))
    print("launched", flush=True)
    time.sleep(60)
    """
)


def test_sigkilled_owner_then_reattach_gets_real_records(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path)], cwd=root, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None and owner.stdout.readline().strip() == "launched"
    wait_for(lambda: (tmp_path / "started2").exists())
    owner.send_signal(signal.SIGKILL)  # the controller dies mid-flight
    owner.wait()
    record1 = tmp_path / "spool" / "jobs" / "1" / "record.json"
    wait_for(record1.exists)  # job 1 ends while nobody owns it: its supervisor records it anyway

    ex = LocalExecutor(tmp_path / "spool", kill_wait=0.5, liveness_interval=0.1)
    try:
        found = ex.reattach([1, 2, 3])
        quick, slow, unknown = found[1], found[2], found[3]
        assert quick is not None and quick.state is JobState.FAILED and quick.exit_code == 4
        assert slow is None  # still running under its supervisor
        assert unknown is not None and unknown.state is JobState.NODE_FAIL
        ended = wait_end(ex, 2)
        assert ended.state is JobState.COMPLETED and ended.exit_code == 0 and ended.start_time is not None
        assert (tmp_path / "slurm-2.out").read_text() == "slow done\n"
        assert (tmp_path / "slurm-1.out").read_text() == "quick\n"
        again = LocalExecutor(tmp_path / "spool").reattach([2])[2]  # asking again gives the same answer
        assert again is not None and again.state is JobState.COMPLETED
    finally:
        ex.shutdown(cancel_running=True)


def test_killed_supervisor_means_node_fail_and_its_job_is_killed(tmp_path: Path) -> None:
    ex = LocalExecutor(tmp_path / "spool", kill_wait=0.5, liveness_interval=0.1)
    try:
        ex.launch(make_spec(5, "sleep 60 &\nwait\n", tmp_path))
        spool = tmp_path / "spool" / "jobs" / "5"
        wait_for(lambda: (spool / "started.json").exists() and (spool / "supervisor.pid").exists())
        events = ex.events()
        assert [e.kind for e in events] == [ExecEventKind.STARTED]
        sup = ex.spool.read(5, "supervisor.pid")
        assert sup is not None
        wait_for(lambda: len(proctree.descendants(sup["pid"])) >= 2)  # sh and its sleep
        job_pids = [(p, proctree.stat(p)) for p in proctree.descendants(sup["pid"])]
        os.kill(sup["pid"], signal.SIGKILL)
        ended = wait_end(ex, 5)
        assert ended.state is JobState.NODE_FAIL and "supervisor" in ended.reason
        time.sleep(0.1)
        for pid, info in job_pids:
            assert info is not None and not proctree.alive(pid, info.start), pid  # nothing of the job is left
        later = LocalExecutor(tmp_path / "spool").reattach([5])[5]
        assert later is not None and later.state is JobState.NODE_FAIL
    finally:
        ex.shutdown(cancel_running=True)


def test_reattach_after_supervisor_died_while_controller_was_down(tmp_path: Path) -> None:
    first = LocalExecutor(tmp_path / "spool", kill_wait=0.5)
    first.launch(make_spec(6, "sleep 60\n", tmp_path))
    spool = tmp_path / "spool" / "jobs" / "6"
    wait_for(lambda: (spool / "started.json").exists())
    sup = first.spool.read(6, "supervisor.pid")
    assert sup is not None
    first.shutdown()  # the controller goes away; the job keeps running
    os.kill(sup["pid"], signal.SIGKILL)
    wait_for(lambda: not proctree.alive(sup["pid"], sup["start"]))
    found = LocalExecutor(tmp_path / "spool").reattach([6])[6]
    assert found is not None and found.state is JobState.NODE_FAIL and "gone" in found.reason


def test_jobs_still_start_when_the_launcher_dies_and_never_twice(tmp_path: Path) -> None:
    ex = LocalExecutor(tmp_path / "spool", kill_wait=0.5, liveness_interval=0.1)
    try:
        ex.launch(make_spec(30, "echo $$ >> starts\n", tmp_path))  # starts the launcher; this one goes the slow way
        assert wait_end(ex, 30).state is JobState.COMPLETED
        assert ex._launcher is not None and ex._launcher.process is not None
        launcher = ex._launcher.process
        wait_for(ex._launcher.path.exists)
        # Once the fork server answers, supervisors are its children. Right after it starts, a launch may
        # still go the slow way (the server is only an accelerator), so look at up to three launches.
        forked = []
        for job in (33, 34, 35):
            ex.launch(make_spec(job, "sleep 0.3\n", tmp_path))
            wait_for(lambda job=job: (tmp_path / f"spool/jobs/{job}/supervisor.pid").exists())
            sup = ex.spool.read(job, "supervisor.pid")
            assert sup is not None
            forked.append((proctree.stat(sup["pid"]) or proctree.Proc(0, "", 0, 0, 0, 0)).ppid == launcher.pid)
            assert wait_end(ex, job).state is JobState.COMPLETED
            if forked[-1]:
                break
        assert any(forked), "no supervisor was forked by the launcher"
        launcher.kill()  # the fork server is only an accelerator
        launcher.wait()
        ex.launch(make_spec(31, "echo $$ >> starts\n", tmp_path))
        assert wait_end(ex, 31).state is JobState.COMPLETED
        ex.launch(make_spec(32, "echo $$ >> starts\nsleep 1\n", tmp_path))
        wait_for(lambda: (tmp_path / "spool/jobs/32/supervisor.pid").exists())
        second = subprocess.run([sys.executable, "-m", "hal.executors.supervisor", str(tmp_path / "spool/jobs/32")])
        assert second.returncode == ALREADY_CLAIMED  # a second supervisor for the same job steps aside
        assert wait_end(ex, 32).state is JobState.COMPLETED
        assert len((tmp_path / "starts").read_text().split()) == 3  # jobs 30, 31, 32: each exactly once
    finally:
        ex.shutdown(cancel_running=True)


def test_a_job_whose_supervisor_died_during_an_outage_ends_one_beat_after_its_last(tmp_path: Path) -> None:
    """QA: it ended at the restart, so the whole outage was charged to a job that ran seconds."""
    first = LocalExecutor(tmp_path / "spool", kill_wait=0.5)
    first.launch(make_spec(7, "sleep 60\n", tmp_path))
    spool = tmp_path / "spool" / "jobs" / "7"
    wait_for(lambda: (spool / "beat").exists())  # the supervisor's sign of life
    sup = first.spool.read(7, "supervisor.pid")
    assert sup is not None
    first.shutdown()
    os.kill(sup["pid"], signal.SIGKILL)
    wait_for(lambda: not proctree.alive(sup["pid"], sup["start"]))
    last = time.time() - 3600  # as if it died an hour before this restart
    os.utime(spool / "beat", (last, last))
    found = LocalExecutor(tmp_path / "spool").reattach([7])[7]
    assert found is not None and found.state is JobState.NODE_FAIL
    assert found.time == last + 30.0

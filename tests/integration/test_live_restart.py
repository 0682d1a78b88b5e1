"""SIGKILL of the controller while jobs run and wait: after a restart nothing accepted is lost, running jobs
are reattached (their exits recorded while the controller was down), and jobs whose processes vanished end
NODE_FAIL, or go back to the queue when they asked for --requeue."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

from hal.client import Client, HalError
from tests.integration.livekit import LiveServer, gated, wait_ended_offline


def _kill_job_processes(spool: Path, job_id: int) -> None:
    """What a node crash does to one job: its supervisor and its processes disappear without a record."""
    job_dir = spool / "jobs" / str(job_id)
    deadline = time.monotonic() + 20
    while not (job_dir / "started.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # RUNNING means launched; the supervisor may still be starting the script
    sup = json.loads((job_dir / "supervisor.pid").read_text())
    started = json.loads((job_dir / "started.json").read_text())
    os.kill(sup["pid"], signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(started["pgid"], signal.SIGKILL)


def _wait_running(c: Client, ids: list[int], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.get(j)["state"] == "RUNNING" for j in ids):
            return
        time.sleep(0.1)
    raise AssertionError(f"jobs {ids} did not all start: {[c.get(j)['state'] for j in ids]}")


def test_sigkill_while_jobs_run_and_wait(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    work = live.work
    try:
        with live.client() as c:
            go = tmp_path / "go"  # the survivor runs until the controller is killed, then ends
            survivor = c.submit(wrap=gated(go, f"echo done > {work}/survivor.txt"))["job_id"]
            again = f"if [ -f {work}/flag ]; then echo second; exit 0; fi; touch {work}/flag; sleep 60"
            requeued = c.submit(wrap=again, options={"requeue": True})["job_id"]
            lost = c.submit(wrap="sleep 60")["job_id"]
            free = tmp_path / "free"  # the blocker keeps the waiting jobs waiting until after the restart
            blocker = c.submit(wrap=gated(free), options={"ntasks": 5})["job_id"]
            _wait_running(c, [survivor, requeued, lost, blocker])
            waiting = [c.submit(wrap="true", options={"ntasks": 2})["job_id"] for _ in range(4)]
            after = c.submit(wrap="true", options={"dependency": f"afterok:{survivor}"})["job_id"]
            assert c.get(waiting[0])["state"] == "PENDING"
        live.kill()
        _kill_job_processes(live.home / "spool", requeued)
        _kill_job_processes(live.home / "spool", lost)
        go.touch()
        wait_ended_offline(live, str(survivor))  # the survivor ends while no controller runs; its supervisor keeps
        # the record
        live.start()
        free.touch()  # it slept 3 s, and ended before or after the restart as the machine's load had it
        with live.client() as c:
            for job in [survivor, blocker, *waiting, after]:
                assert c.wait(job, timeout=60)["state"] == "COMPLETED", c.get(job)
            assert (work / "survivor.txt").read_text().strip() == "done"
            rec = c.wait(requeued, timeout=60)
            assert (rec["state"], rec["restarts"]) == ("COMPLETED", 1)
            assert c.get(lost)["state"] == "NODE_FAIL"
            assert f"job {lost} ends NODE_FAIL" in live.log.read_text()  # said in the log, not only counted
            every = {j["job_id"] for j in c.list(all_users=True)}
            assert {survivor, requeued, lost, blocker, *waiting, after} <= every
    finally:
        live.stop()


def test_sigkill_during_a_submission_storm_loses_no_acknowledged_job(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    acked: dict[str, int] = {}
    unanswered: list[str] = []
    stop = threading.Event()

    def storm() -> None:
        with live.client() as c:
            while not stop.is_set():
                key = str(uuid.uuid4())
                try:
                    acked[key] = c.submit(wrap="true", options={"begin": "now+3600"}, idempotency_key=key)["job_id"]
                except HalError:
                    unanswered.append(key)
                    return

    thread = threading.Thread(target=storm)
    thread.start()
    time.sleep(1.5)
    live.kill()
    try:
        live.start()  # a submission in flight at the kill is retried (same key) until the server is back
        stop.set()
        thread.join(30)
        assert not thread.is_alive() and len(acked) > 20
        with live.client() as c:
            stored = {j["job_id"] for j in c.list(state="PENDING")}
            assert set(acked.values()) <= stored and len(stored) <= len(acked) + len(unanswered)  # none twice
            for key in unanswered:  # the client retries what it never heard back about: at most one job
                first = c.submit(wrap="true", options={"begin": "now+3600"}, idempotency_key=key)
                second = c.submit(wrap="true", options={"begin": "now+3600"}, idempotency_key=key)
                assert first["job_ids"] == second["job_ids"] and second["replayed"]
    finally:
        live.stop()

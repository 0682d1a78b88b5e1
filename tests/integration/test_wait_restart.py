"""`hal wait` and `hal submit --wait` ride out a controller restart, as sbatch --wait does: they gave up with
'cannot reach the HAL server' (exit 1, as for a failed job) while the job ran on and completed."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.livekit import HAL, LiveServer, submit


def test_waiters_survive_a_killed_and_restarted_controller(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        job = submit(live, "sleep 4")  # the SDK: `hal wait` and `hal submit --wait` are the subject
        waits = [
            subprocess.Popen([*HAL, "wait", job], env=live.env, stdout=subprocess.PIPE, text=True),
            subprocess.Popen([*HAL, "submit", "--wait", "--parsable", "--wrap", "sleep 3; exit 7"], env=live.env,
                             cwd=live.work, stdout=subprocess.PIPE, text=True),
        ]  # fmt: skip
        assert waits[1].stdout is not None
        first = waits[1].stdout.readline()  # submitted (on a loaded machine the CLI took over 1.5 s to get there)
        time.sleep(0.5)
        live.kill()
        time.sleep(2.0)  # nobody answers for a while
        live.start()
        codes = [w.wait(timeout=120) for w in waits]
        outs = [w.stdout.read() if w.stdout else "" for w in waits]
        assert codes == [0, 7], outs  # the job's own outcome, not a lost connection
        assert first.strip().isdigit()  # --wait --parsable printed the id first (it printed nothing)
    finally:
        live.stop()


def test_wait_gives_up_at_its_timeout_on_a_hung_server(tmp_path: Path) -> None:
    """SDK QA: against a stopped (SIGSTOP) server, wait(timeout=3) took the client's 30 s per poll and raised
    HalError; it now gives up at its timeout with TimeoutError, as documented."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        assert live.proc is not None
        with live.client() as c:
            job = c.submit(wrap="sleep 30", options={"time": "1:00"})["job_id"]
            live.proc.send_signal(signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                with pytest.raises(TimeoutError):
                    c.wait(job, timeout=3)
                assert time.monotonic() - t0 < 10
            finally:
                live.proc.send_signal(signal.SIGCONT)
            c.cancel(job)
    finally:
        live.stop()

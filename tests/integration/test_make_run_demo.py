"""`make run`'s demo (examples/live-demo.sh) end to end: every job it submits ends COMPLETED. Its report job
read the array's outputs under a name they never had and always FAILED."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.livekit import ROOT, free_port


def test_every_demo_job_completes(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)  # it runs .venv/bin/hal, .venv/bin/python
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAL_")}
    env.update(HAL_HOME=str(home), HAL_PORT=str(free_port()))
    env.update(DEMO_LONG_S="4", DEMO_TASK_S="1", DEMO_WIDE_S="5")  # the same jobs, shorter (50 s -> 10 s)
    shown = subprocess.run(
        ["bash", "examples/live-demo.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    info = json.loads((home / "server.json").read_text())  # a server that started is stopped below, whatever
    try:
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "JOBID  PARTITION  NAME" in shown.stdout and "HAL server running at" in shown.stdout
        env["HAL_URL"] = info["url"]
        deadline = time.monotonic() + 150
        while True:
            got = subprocess.run(
                [sys.executable, "-m", "hal", "history", "-P", "-n", "-o", "JobID,JobName,State"],
                env=env, capture_output=True, text=True, timeout=60, check=True,
            ).stdout  # fmt: skip
            rows = [line.split("|") for line in got.split()]
            if len(rows) >= 4 and all(r[2] not in ("PENDING", "RUNNING", "CONFIGURING") for r in rows):
                break
            assert time.monotonic() < deadline, got
            time.sleep(1.0)
        assert {r[1] for r in rows} == {"long", "sweep", "report", "wide"}, rows
        assert all(r[2] == "COMPLETED" for r in rows), rows
        report = next(r[0] for r in rows if r[1] == "report")
        assert "task 7 on" in (tmp_path / "out" / "hal-jobs" / f"slurm-{report}.out").read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(info["pid"], signal.SIGTERM)

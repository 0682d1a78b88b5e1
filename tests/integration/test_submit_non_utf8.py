"""QA F2: `hal submit` from a Latin-1-named directory, with a non-UTF-8 variable in its environment, crashed
with a UnicodeEncodeError traceback. The job now runs in that very directory (sent as raw bytes), the variable
is left out with a warning naming it, and a non-UTF-8 -J is refused in one line."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.integration.livekit import HAL, LiveServer, until_state


def test_submit_from_a_latin1_directory_with_a_latin1_variable(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        raw = os.fsencode(live.work) + b"/caf\xe9"
        os.mkdir(raw)
        env = {**live.env, "QABAD": os.fsdecode(b"caf\xe9"), "QAGOOD": "ok"}

        def hal(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*HAL, *args], env=env, cwd=raw, capture_output=True, text=True, timeout=120)

        done = hal("submit", "--parsable", "--wrap", 'pwd -P; echo "[${QABAD-unset}] $QAGOOD"')
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "environment variable QABAD is not valid UTF-8" in " ".join(done.stderr.split())
        job = done.stdout.strip()
        until_state(live, job, "COMPLETED")
        deadline = time.monotonic() + 10
        out = raw + f"/slurm-{job}.out".encode()
        while not os.path.exists(out) and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(out, "rb") as fh:
            assert fh.read() == raw + b"\n[unset] ok\n"
        named = hal("submit", "-J", os.fsdecode(b"n\xe9"), "--wrap", "true")
        assert named.returncode != 0 and "Traceback" not in named.stderr
        assert "--job-name=n\\xe9: not valid UTF-8" in " ".join(named.stderr.split()), named.stderr
    finally:
        live.stop()

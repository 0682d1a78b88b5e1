"""`hal sessions` with no session manager: one line, the start hint once (the client's message came to carry its
own hint, and the CLI added a second)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_no_manager_is_one_line_with_one_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAL_")}
    res = subprocess.run(
        [sys.executable, "-m", "hal", "sessions"],
        env={**env, "HAL_HOME": str(tmp_path), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0
    line = " ".join(res.stderr.split())
    assert "cannot reach the session manager" in line and str(tmp_path) in line, res.stderr
    assert line.count("start one with") == 1, res.stderr
    assert "Traceback" not in res.stderr

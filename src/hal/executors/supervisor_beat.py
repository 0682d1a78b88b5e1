"""A supervisor's sign of life: a file in its job's spool folder touched every half minute while the job runs. A job
whose supervisor is found gone (a node crash, an OOM kill of the supervisor, while the controller was down) ended
NODE_FAIL at the restart time, so a night's outage was charged to a job that ran seconds (QA); it now ends at most
one beat after its supervisor's last."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

BEAT_FILE = "beat"
EVERY_S = 30.0


def beat(job_dir: Path) -> None:
    with contextlib.suppress(OSError):  # a full disk must not stop the job; the mark only ages
        if not (path := job_dir / BEAT_FILE).exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.utime(path)


def lost_at(job_dir: Path) -> float:
    """When a job whose supervisor is gone ended at the latest: now, or one beat after its supervisor's last."""
    now = time.time()
    try:
        return min(now, (job_dir / BEAT_FILE).stat().st_mtime + EVERY_S)
    except OSError:  # no beat (a supervisor from before beats): when it was found gone
        return now

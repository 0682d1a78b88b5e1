"""The commands a job finds on its PATH: `hal`, `srun` as HAL's task launcher (`hal run`), so a Slurm script's
`srun ./app` works inside a HAL job, and `scontrol` (show hostnames, job commands: executors/scontrol.py).
Written once per executor into the spool, with this Python's path in them; appended to the job's PATH, so a real
Slurm installation earlier on it still wins."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHIMS = {
    "hal": '#!/bin/sh\nexec "{python}" -m hal "$@"\n',
    "srun": '#!/bin/sh\nexec "{python}" -m hal.executors.tasks "$@"\n',  # the light `hal run`, no CLI import
    "scontrol": '#!/bin/sh\nexec "{python}" -m hal.executors.scontrol "$@"\n',  # show hostnames, job commands
}


def write_shims(folder: Path) -> Path:
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    for name, text in SHIMS.items():
        path = folder / name
        body = text.format(python=sys.executable)
        if not path.exists() or path.read_text() != body:
            tmp = folder / f".{name}.tmp"
            tmp.write_text(body)
            tmp.chmod(0o755)
            os.replace(tmp, path)
    return folder


def with_shims(path: str | None, folder: Path) -> str:
    """PATH with the shim folder last (not added twice)."""
    parts = [p for p in (path or "/usr/local/bin:/usr/bin:/bin").split(":") if p]
    return ":".join([*parts, str(folder)] if str(folder) not in parts else parts)

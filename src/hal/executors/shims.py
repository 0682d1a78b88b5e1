"""The commands a job finds on its PATH: `hal`, `srun` as HAL's task launcher (`hal run`), so a Slurm script's
`srun ./app` works inside a HAL job, and `scontrol` (show hostnames, job commands: executors/scontrol.py).
Written once per executor into the spool, with this Python's path in them; appended to the job's PATH, so a real
Slurm installation earlier on it still wins."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

SHIMS = {
    "hal": '#!/bin/sh\nexec "{python}" -m hal "$@"\n',
    # the light `hal run`, no CLI import; told the spool, where a job's steps record the GPUs they hold (gpu_steps)
    "srun": '#!/bin/sh\nHAL_STEP_SPOOL={spool}\nexport HAL_STEP_SPOOL\nexec "{python}" -m hal.executors.tasks "$@"\n',
    "scontrol": '#!/bin/sh\nexec "{python}" -m hal.executors.scontrol "$@"\n',  # show hostnames, job commands
}


def write_shims(folder: Path) -> Path:
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    for name, text in SHIMS.items():
        path = folder / name
        body = text.format(python=sys.executable, spool=shlex.quote(str(folder.absolute().parent)))
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

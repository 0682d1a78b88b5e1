"""GPUs held by a job's running srun steps, so concurrent steps get GPUs of their own (Slurm >= 20.11: steps do
not share GRES unless --overlap; a step whose GPUs are busy waits for them). Each step took the node's first GPUs,
so four `srun -n1 --gpus-per-task=1 ... &` all ran on GPU 0.

The record is one small JSON file per job, guarded by flock: {"steps": N, "held": {pid: {"start": ticks, "gpus":
{node: [ids]}}}}. An entry is its srun's pid with the pid's start time (a pid alone can be reused): an entry whose
process is gone (a killed srun) is dropped at the next look, so its GPUs come back. The batch script holds none:
it sees all of the job's GPUs, as Slurm's batch step does, and steps allocate from the job's GPUs alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from hal.executors import proctree

# The spool's root, set by the srun shim for its own process (shims.py): the record goes in the job's spool
# directory, private to the job and removed with it. Without it (`hal run` from a venv's `hal`, an older spool)
# a file in the temporary directory, named by the job and its session (the batch script leads it).
SPOOL_VARIABLE = "HAL_STEP_SPOOL"
RECORD = "gpu-steps.json"
FIRST_WAIT, LAST_WAIT = 0.05, 1.0  # seconds between looks while a step waits for its GPUs (doubling up to LAST)


def record_path(env: Mapping[str, str]) -> Path:
    job = env.get("SLURM_JOB_ID") or env.get("HAL_JOB_ID") or "0"
    spool = env.get(SPOOL_VARIABLE, "")
    if spool and job.isdigit() and (Path(spool) / "jobs" / job).is_dir():
        return Path(spool) / "jobs" / job / RECORD
    folder = Path(tempfile.gettempdir()) / f"hal-gpu-steps-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{job}.{os.getsid(0)}.json"


def _me() -> tuple[str, int]:
    me = proctree.stat(os.getpid())
    return str(os.getpid()), me.start if me is not None else 0


def _running(pid: str, start: int) -> bool:
    if not pid.isdigit():
        return False
    if start:
        return proctree.alive(int(pid), start)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[dict[str, Any]]:
    """The record, read under an exclusive lock, with the entries of steps that are gone dropped; written back."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            data = json.loads(f.read() or "{}")
            if not isinstance(data, dict) or not isinstance(data.get("held", {}), dict):
                data = {}
        except ValueError:  # cut short by a crash mid-write: the live steps re-enter on their next look
            data = {}
        held = data.setdefault("held", {})
        for pid in [p for p, e in held.items() if not isinstance(e, dict) or not _running(p, int(e.get("start", 0)))]:
            del held[pid]
        yield data
        f.seek(0)
        f.truncate()
        f.write(json.dumps(data))
        f.flush()


def try_hold(path: Path, want: Mapping[str, tuple[Sequence[int], int]]) -> tuple[int, dict[str, list[int]]] | None:
    """For each node, ``count`` of the job's GPUs there (``want``: node -> (job's GPUs, count)) that no other step
    holds, the lowest first, all nodes at once or none (a step holding some nodes while waiting for others could
    deadlock with another). Returns the step's number among the job's GPU steps and its GPUs; None: not free yet."""
    pid, start = _me()
    with _locked(path) as data:
        held = data["held"]
        busy: dict[str, set[int]] = {}
        for p, entry in held.items():
            if p == pid:
                continue
            for node, ids in dict(entry.get("gpus", {})).items():
                busy.setdefault(node, set()).update(ids)
        got: dict[str, list[int]] = {}
        for node, (gpus, count) in want.items():
            free = [g for g in gpus if g not in busy.get(node, set())]
            if len(free) < count:
                return None
            got[node] = free[:count]
        number = int(data.get("steps", 0))
        data["steps"] = number + 1
        held[pid] = {"start": start, "gpus": got}
    return number, got


def hold(
    path: Path, want: Mapping[str, tuple[Sequence[int], int]], job: str, err: TextIO = sys.stderr
) -> dict[str, list[int]]:
    """``try_hold`` until the GPUs are free, saying so as srun does: once when it starts waiting, once when done."""
    pause, waited = FIRST_WAIT, False
    while (taken := try_hold(path, want)) is None:
        if not waited:
            print("srun: Step creation temporarily disabled, retrying (Requested nodes are busy)", file=err)
            err.flush()
            waited = True
        time.sleep(pause)
        pause = min(pause * 2, LAST_WAIT)
    number, got = taken
    if waited:
        print(f"srun: Step created for StepId={job}.{number}", file=err)
        err.flush()
    return got


def release(path: Path) -> None:
    """The step's GPUs go back to the job (its entry would be dropped anyway once this process is gone)."""
    pid, _ = _me()
    with contextlib.suppress(OSError), _locked(path) as data:
        data["held"].pop(pid, None)

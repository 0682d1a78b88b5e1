"""The memory limit inside a job's processes: job cgroups (create, join, OOM count, peak, kill, remove), RLIMIT_DATA,
and the evidence that a job under an rlimit ran out of memory. Standard library only and no dataclasses: the
supervisor imports this and must start fast."""

from __future__ import annotations

import contextlib
import os
import resource
import stat
import time
from pathlib import Path

OOM_HINTS = (
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "Out of memory",
    "OutOfMemoryError",
    "memory allocation of",
    "failed to allocate",
)
CGROUP = "cgroup"
RLIMIT = "rlimit"
NONE = "none"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def create_job_cgroup(jobs_dir: str, job_id: int, limit_bytes: int) -> Path:
    path = Path(jobs_dir) / f"job_{job_id}"
    path.mkdir(exist_ok=True)
    if limit_bytes > 0:
        (path / "memory.max").write_text(str(limit_bytes))
        with contextlib.suppress(OSError):  # no swap accounting: the limit is still memory.max
            (path / "memory.swap.max").write_text("0")
    with contextlib.suppress(OSError):
        (path / "memory.oom.group").write_text("1")  # an OOM kill takes the whole job, as in Slurm
    return path


def join_cgroup(path: str) -> None:
    """In the forked child, before exec: from here on everything the job starts is inside the cgroup."""
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write("0")


def cgroup_stat(path: Path) -> tuple[int, int]:
    """(oom kills so far, peak or current bytes)."""
    kills = 0
    for line in (_read(path / "memory.events") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            kills = int(value)
    peak = _read(path / "memory.peak") or _read(path / "memory.current") or "0"
    return kills, int(peak)


def kill_cgroup(path: Path) -> None:
    with contextlib.suppress(OSError):
        (path / "cgroup.kill").write_text("1")


def remove_cgroup(path: Path) -> None:
    for _ in range(50):  # the kernel frees a cgroup a moment after its last process is reaped
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def with_data_limit(argv: list[str], limit_bytes: int) -> list[str]:
    """argv run under RLIMIT_DATA (soft and hard: the job cannot raise it), set by a shell that then execs argv.

    RLIMIT_DATA rather than RLIMIT_AS because it counts what a process can actually fill, not address space
    merely reserved (thread arenas, JVM and Go heaps, CUDA)."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    return ["/bin/sh", "-c", 'ulimit -d "$0" && exec "$@"', str(max(limit_bytes // 1024, 1)), *argv]


def oom_hint(stderr: str) -> str:
    """What a program that hit RLIMIT_DATA usually says: the first of OOM_HINTS in the last 64 KiB of its stderr."""
    try:
        with open(stderr, "rb", opener=lambda path, flags: os.open(path, flags | os.O_NONBLOCK)) as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                return ""  # a FIFO or device: nothing to look back at
            f.seek(max(info.st_size - 65536, 0))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return next((h for h in OOM_HINTS if h in tail), "")

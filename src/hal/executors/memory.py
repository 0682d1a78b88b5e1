"""Which memory limit a job gets: a cgroup v2 (memory.max, kernel OOM events) where one is delegated to us, else
per-process rlimits (RLIMIT_DATA) plus the supervisor's watchdog on the whole tree's resident memory.

The probe runs once when the executor starts and says in words what it chose and why. Standard library only:
the supervisor calls the cgroup and rlimit helpers too.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from hal.executors.limits import CGROUP, NONE, RLIMIT, kill_cgroup, remove_cgroup

__all__ = ["CGROUP", "NONE", "RLIMIT", "MemoryMechanism", "kill_cgroup", "probe", "remove_cgroup"]


@dataclass(frozen=True, slots=True)
class MemoryMechanism:
    kind: str  # CGROUP, RLIMIT or NONE
    detail: str  # what is enforced and, when cgroups are not used, why
    jobs_dir: str = ""  # CGROUP only: the cgroup under which each job gets its own


def probe(requested: str = "auto", cgroup_root: Path | None = None) -> MemoryMechanism:
    """requested: auto (cgroup v2 if usable, else rlimit), cgroup (fail if unusable), rlimit or none."""
    if requested == NONE:
        return MemoryMechanism(NONE, "no memory limits (asked for)")
    rlimit = MemoryMechanism(
        RLIMIT,
        "rlimit: RLIMIT_DATA per process (malloc fails beyond it) and a watchdog that kills the job when the "
        "private resident memory of its whole process tree exceeds the allocation",
    )
    if requested == RLIMIT:
        return rlimit
    jobs_dir, why_not = _cgroup_jobs_dir(cgroup_root)
    if jobs_dir is not None:
        return MemoryMechanism(CGROUP, f"cgroup v2: memory.max per job under {jobs_dir}", str(jobs_dir))
    if requested == CGROUP:
        raise RuntimeError(f"cgroup v2 memory limits are not usable here: {why_not}")
    return MemoryMechanism(RLIMIT, f"{rlimit.detail}; cgroup v2 not used: {why_not}")


def _cgroup_jobs_dir(root: Path | None) -> tuple[Path | None, str]:
    """A directory where job cgroups with the memory controller can be created, or why there is none."""
    if root is None:
        found = _own_cgroup()
        if found is None:
            return None, "no cgroup2 mount in /proc/self/mountinfo"
        root = found
    controllers = _read(root / "cgroup.controllers")
    if controllers is None:
        return None, f"{root} is not a cgroup v2 directory"
    if "memory" not in controllers.split():
        return None, f"the memory controller is not available in {root} (controllers: {controllers or 'none'})"
    if not os.access(root, os.W_OK):
        return None, f"{root} is not writable (not delegated to this user)"
    jobs = root / "hal.jobs"
    created = not jobs.exists()
    try:
        jobs.mkdir(exist_ok=True)
        _enable_memory(root)
        _enable_memory(jobs)
        probe_dir = jobs / f"probe-{os.getpid()}"
        probe_dir.mkdir(exist_ok=True)
        ok = (probe_dir / "memory.max").exists()
        probe_dir.rmdir()
    except OSError as e:
        if created:
            with contextlib.suppress(OSError):
                jobs.rmdir()
        return None, f"cannot set up {jobs}: {e.strerror or e} (a cgroup holding processes cannot delegate memory; "
        "give HAL an empty delegated cgroup, e.g. systemd Delegate=yes, as cgroup_root)"
    return (jobs, "") if ok else (None, f"{jobs} has no memory.max after enabling the memory controller")


def _own_cgroup() -> Path | None:
    mount = None
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                mount = left.split()[4]
                break
    if mount is None:
        return None
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            if line.startswith("0::"):
                return Path(mount) / line[3:].strip().lstrip("/")
    return Path(mount)


def _enable_memory(cgroup: Path) -> None:
    if "memory" not in (_read(cgroup / "cgroup.subtree_control") or "").split():
        (cgroup / "cgroup.subtree_control").write_text("+memory")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None

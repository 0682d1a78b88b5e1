"""Process identity and process trees read from /proc: who is alive, who descends from whom, how much memory.

A pid alone can be reused, so a process is named by (pid, start time in clock ticks) from /proc/<pid>/stat.
This kernel may lack /proc/<pid>/task/<tid>/children, so trees are built from one scan of every /proc/<pid>/stat.
Standard library only: the supervisor imports it.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal

PAGE = os.sysconf("SC_PAGE_SIZE")
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NAME = 15


class Proc:
    """One line of /proc/<pid>/stat, the fields we use (a plain class: dataclasses cost the supervisor 20 ms)."""

    __slots__ = ("pgid", "pid", "ppid", "sid", "start", "state")

    def __init__(self, pid: int, state: str, ppid: int, pgid: int, sid: int, start: int) -> None:
        self.pid, self.state, self.ppid, self.pgid, self.sid = pid, state, ppid, pgid, sid
        self.start = start  # clock ticks since boot: with the pid, a name that is never reused


def stat(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces and parentheses
    return Proc(pid, rest[0], int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19]))


def alive(pid: int, start: int) -> bool:
    """The very process (not a reuse of its pid) exists and is not a zombie."""
    p = stat(pid)
    return p is not None and p.start == start and p.state not in ("Z", "X")


def scan() -> dict[int, Proc]:
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = stat(int(name))
            if p is not None:
                procs[p.pid] = p
    return procs


def descendants(root: int, procs: dict[int, Proc] | None = None) -> list[int]:
    """Every process below root (root excluded), through parent links."""
    procs = scan() if procs is None else procs
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def rss_bytes(pids: list[int]) -> tuple[int, int]:
    """(private, total) resident memory summed over pids. Private (resident minus file-backed and shared pages) is
    what a memory limit is about and does not count shared libraries once per process; total is the usual RSS."""
    private = total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                fields = f.read().split()
        except OSError:
            continue
        total += int(fields[1]) * PAGE
        private += max(int(fields[1]) - int(fields[2]), 0) * PAGE
    return private, total


def signal_tree(root: int, pgid: int | None, sig: int) -> int:
    """Sends sig to a process group, then to each descendant of root outside that group (those that called
    setsid or setpgid), so every process gets it once. Returns how many signals were sent."""
    sent = 0
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
            sent += 1
    procs = scan()
    for pid in descendants(root, procs):
        if procs[pid].pgid == pgid:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            sent += 1
    return sent


BATCH, STEPS, ALL = "batch", "steps", "all"
FORWARDED = (signal.SIGUSR1, signal.SIGUSR2)  # what HAL's srun passes on to its tasks, as Slurm's srun does


def signal_job(root: int, main: int, sig: int, whom: str) -> int:
    """A user's signal to a running job (sbatch --signal, scancel -s): to the batch shell (main) alone, to the
    job's steps (every process below root but the batch shell: `srun` tasks and whatever the script started
    stand for Slurm's steps), or to all of them. Returns how many processes it reached."""
    below = descendants(root)
    pids = [main] if whom == BATCH else [p for p in below if p != main or whom == ALL]
    if whom == STEPS or sig in FORWARDED:  # the tasks, not the `srun` that waits for them (it died, and the
        pids = [p for p in pids if not _launcher(p)]  # script went on early); srun passes USR1/USR2 on itself
    sent = 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            sent += 1
    return sent


def _launcher(pid: int) -> bool:
    """HAL's task launcher (`srun`/`hal run` inside a job): it starts tasks and waits for them."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return False
    if b"hal.executors.tasks" in argv:  # the srun shim
        return True
    return any(a == b"run" and (b == b"hal" or b.endswith(b"/hal")) for b, a in itertools.pairwise(argv[:4]))


def prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def set_name(name: str) -> None:
    """The process name `top` and `ps -o comm` show (15 bytes): a forked supervisor is otherwise a "launcher"."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to us instead of init: we can kill, reap and account for all of them."""
    return prctl(PR_SET_CHILD_SUBREAPER, 1)


def signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "unknown"

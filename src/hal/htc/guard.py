"""What a service instance may use: the host cores it is pinned to, and its memory limit, enforced as the
LocalExecutor does for batch jobs under rlimits: RLIMIT_DATA on the process plus a watchdog over the private
resident memory of its whole process tree.

An instance over its limit is asked to stop with SIGUSR1 (the task it runs is interrupted, it sends the results
it holds and exits with EXIT_MEMORY), and is killed with its process group if it has not gone within GRACE.
Standard library only, apart from hal.executors' process helpers: service instances import this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

from hal.executors import limits, proctree

EXIT_MEMORY = 86  # a service instance that ran out of memory exits with this code once its results are out
MEMORY_PREFIX = "service instance exceeded its memory limit"
TIMEOUT_PREFIX = "task exceeded the application's task timeout"  # deadlines.py
GRACE = 2.0  # seconds an instance asked to stop for memory has before it is killed


def memory_reason(mem_mb: int, detail: str = "") -> str:
    return f"{MEMORY_PREFIX} ({mem_mb} MiB)" + (f": {detail}" if detail else "")


def limited_argv(argv: list[str], mem_mb: int) -> list[str]:
    """``argv`` under RLIMIT_DATA of ``mem_mb`` MiB (the executors' shell wrapper, which execs into argv)."""
    return limits.with_data_limit(argv, mem_mb << 20) if mem_mb > 0 else argv


def parse_cpus(text: str) -> list[int]:
    return [int(c) for c in text.split(",") if c.strip()]


class CoreDealer:
    """Host cores for slots when the engine names none (the standalone manager's pool has no per-core book):
    each slot takes its CPU count in the least-used cores, ties going round-robin, so instances spread over
    distinct cores and share one only when slots outnumber cores."""

    def __init__(self, cores: Sequence[int] | None = None) -> None:
        self.cores = list(cores) if cores is not None else sorted(os.sched_getaffinity(0))
        self.use = dict.fromkeys(self.cores, 0)
        self.held: dict[int, tuple[int, ...]] = {}
        self._next = 0

    def take(self, slot: int, n: int) -> tuple[int, ...]:
        if n <= 0 or not self.cores:
            return ()
        order = self.cores[self._next :] + self.cores[: self._next]
        chosen = sorted(order, key=self.use.__getitem__)[: min(n, len(order))]  # stable: ties keep the turn
        self._next = (self.cores.index(chosen[-1]) + 1) % len(self.cores)
        for core in chosen:
            self.use[core] += 1
        self.held[slot] = tuple(sorted(chosen))
        return self.held[slot]

    def give_back(self, slot: int) -> None:
        for core in self.held.pop(slot, ()):
            self.use[core] -= 1


def over_memory(watched: Iterable[tuple[int, int]], tree: bool = True) -> list[tuple[int, int]]:
    """(pid, private bytes) for each (pid, limit bytes) holding more than its limit: the whole process tree's
    with ``tree``, else the process's own. A tree takes one scan of /proc for every instance (several ms on a
    busy machine, a stall of the manager's loop), the process alone one small read; the caller samples the
    process often and the tree now and then."""
    watched = list(watched)
    if not watched:
        return []
    procs = proctree.scan() if tree else {}
    out = []
    for pid, limit in watched:
        used, _ = proctree.rss_bytes([pid, *proctree.descendants(pid, procs)] if tree else [pid])
        if used > limit:
            out.append((pid, used))
    return out


def watch(instances: Iterable[Any], now: float, tree: bool) -> None:
    """Instances (state.Instance) holding more than their application's memory, their own process or with
    ``tree`` all it started: asked to stop (the running task is interrupted), then killed with their process
    group once GRACE has passed. The reason is kept on the instance for its running task."""
    limited = {i.proc.pid: i for i in instances if i.mem_mb > 0 and i.conn is not None}
    for inst in limited.values():
        if inst.stop_by and now > inst.stop_by:
            signal_group(inst.proc.pid, signal.SIGKILL)
    for pid, used in over_memory(((pid, i.mem_mb << 20) for pid, i in limited.items()), tree):
        inst = limited[pid]
        if not inst.lost_reason:
            held = f"its processes held {used >> 20} MiB of private memory (HAL's memory watchdog)"
            inst.lost_reason = memory_reason(inst.mem_mb, held)
            inst.stop_by = now + GRACE
            signal_one(pid, STOP_SIGNAL)


def signal_group(pid: int, sig: int) -> None:
    """``sig`` to a service instance's process group (it leads its own session), so what its tasks started
    goes with it; to the process alone if the group is gone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        signal_one(pid, sig)


def signal_one(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


STOP_SIGNAL = signal.SIGUSR1  # the instance alone: its task's own processes would die of it unasked


def kill(proc: Any, sig: int = signal.SIGKILL) -> None:
    """The instance and what its tasks started (its process group)."""
    if proc is not None:
        signal_group(proc.pid, sig)


def exit_reason(proc: Any, mem_mb: int = 0) -> str:
    """Why an instance's process ended, in words, for the task it was running."""
    try:
        code = proc.wait(timeout=0.2)
    except subprocess.TimeoutExpired:
        return f"connection to process {proc.pid} lost"
    if code == EXIT_MEMORY and mem_mb > 0:
        return memory_reason(mem_mb, "a task ran out of memory under RLIMIT_DATA")
    if code < 0:
        return f"process {proc.pid} killed by {signal.Signals(-code).name}"
    return f"process {proc.pid} exited with code {code}"

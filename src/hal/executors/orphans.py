"""Spool folders of jobs the controller's database does not hold (a lost, emptied or older database): what still
runs of them is killed, as slurmd's jobs unknown to slurmctld are, and their folders are moved aside, kept for a
post-mortem, so a new job given the same id can launch. Listing costs one directory read; only the folders the
controller names are read."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hal.executors import memory, proctree
from hal.executors.spool import Spool

SETTLE = 5.0  # seconds the supervisors get to kill their jobs and record it, before everything left gets SIGKILL


@dataclass(frozen=True, slots=True)
class Orphan:
    job_id: int
    pid: int | None  # its supervisor's (or, that one gone, a job process's) pid if it still ran; None if not
    kept: Path | None  # where its spool folder went (None: left in place, or it could not be moved)


class OrphanSweep:
    def __init__(self, spool: Spool, mem: memory.MemoryMechanism) -> None:
        self.spool, self.mem = spool, mem

    def listed(self) -> tuple[list[int], int]:
        """The ids of the job folders, and the highest id the spool has seen (folders moved aside count too)."""
        plain, top = [], 0
        for name in os.listdir(self.spool.root / "jobs"):
            head = name.split(".", 1)[0]
            if head.isdigit():
                top = max(top, int(head))
                if head == name:
                    plain.append(int(name))
        return plain, top

    def stop(self, unknown: list[int], suspect: list[int]) -> list[Orphan]:
        """Kills what still runs of the unknown jobs and the suspect ones (jobs the database holds as not running),
        then moves aside the folders of all the unknown jobs and of the suspect ones that ran."""
        procs = proctree.scan() if unknown or suspect else {}
        alive = {j: pid for j in [*unknown, *suspect] if (pid := self._running(j, procs)) is not None}
        for job_id in alive:  # the supervisor kills its job's process group and records the cancel, as cancel does
            self.spool.write(job_id, "cancel.json", {"grace": 0.0, "time": time.time()})
            sup = self.spool.read(job_id, "supervisor.pid")
            if sup is not None and proctree.alive(sup["pid"], sup["start"]):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(sup["pid"], signal.SIGUSR1)
        deadline = time.monotonic() + SETTLE
        while alive and time.monotonic() < deadline and any(self._supervisor_alive(j) for j in alive):
            time.sleep(0.05)
        if alive:
            self._kill_rest(list(alive))
        out = []
        for job_id in sorted({*unknown, *alive}):
            out.append(Orphan(job_id, alive.get(job_id), self._move_aside(job_id)))
        return out

    def _running(self, job_id: int, procs: dict[int, proctree.Proc]) -> int | None:
        if self.spool.read(job_id, "record.json") is not None:
            return None  # it ended (its supervisor may still be exiting, and kills any survivors)
        sup = self.spool.read(job_id, "supervisor.pid")
        if sup is not None and proctree.alive(sup["pid"], sup["start"]):
            return int(sup["pid"])
        started = self.spool.read(job_id, "started.json")
        if started is not None:
            return next((p.pid for p in procs.values() if _of(p, started) and p.state not in ("Z", "X")), None)
        return None

    def _supervisor_alive(self, job_id: int) -> bool:
        sup = self.spool.read(job_id, "supervisor.pid")
        return sup is not None and proctree.alive(sup["pid"], sup["start"])

    def _kill_rest(self, job_ids: list[int]) -> None:
        """SIGKILL to supervisors that did not finish and to whatever of their jobs' sessions remains."""
        for job_id in job_ids:
            sup = self.spool.read(job_id, "supervisor.pid")
            if sup is not None and proctree.alive(sup["pid"], sup["start"]):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(sup["pid"], signal.SIGKILL)
        procs = proctree.scan()
        for job_id in job_ids:
            started = self.spool.read(job_id, "started.json") or {}
            for p in procs.values() if started else ():
                if _of(p, started):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(p.pid, signal.SIGKILL)
            if self.mem.kind == memory.CGROUP:
                path = Path(self.mem.jobs_dir) / f"job_{job_id}"
                memory.kill_cgroup(path)
                memory.remove_cgroup(path)
        deadline = time.monotonic() + 2.0  # SIGKILL is not instant: the folder moves once nothing can write it
        while time.monotonic() < deadline and any(self._supervisor_alive(j) for j in job_ids):
            time.sleep(0.02)

    def _move_aside(self, job_id: int) -> Path | None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        src = self.spool.job_dir(job_id)
        for n in range(100):
            dst = src.with_name(f"{job_id}.orphan-{stamp}" + (f"-{n}" if n else ""))
            if dst.exists():
                continue
            try:
                os.rename(src, dst)
            except OSError:
                return None
            self.spool.unmark("started", job_id)
            self.spool.unmark("ended", job_id)
            return dst
        return None


def _of(p: proctree.Proc, started: dict[str, Any]) -> bool:
    """A process of the job's session, started after the job (a recycled pid never matches)."""
    return bool(p.sid == started["pgid"] and p.start >= started["start"])

"""LocalExecutor: runs each job as a real process tree on this machine, one supervisor per job, all state in a spool.

A job's truth is its spool directory (see spool.py), not memory: a new executor on the same spool after a
controller crash finds every job again through reattach()."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hal
from hal.executors import memory, proctree
from hal.executors.api import ExecEvent, ExecEventKind, LaunchSpec, script_problem
from hal.executors.exit_record import ended_event, exit_record, lost_record, status_text
from hal.executors.jobenv import base_environment, input_path, job_environment, output_paths
from hal.executors.launcher import LauncherClient
from hal.executors.orphans import OrphanSweep
from hal.executors.shims import with_shims, write_shims
from hal.executors.spool import Spool
from hal.executors.supervisor import ALREADY_CLAIMED

# Supervisors start without site (-S, about a third faster) and find hal, which needs nothing else, directly.
_HAL_PARENT = str(Path(hal.__file__).resolve().parent.parent)
_SUPERVISOR_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(p for p in (_HAL_PARENT, os.environ.get("PYTHONPATH")) if p),
}
log = logging.getLogger(__name__)
STARTUP_GRACE = 15.0  # seconds a supervisor may take to write its pid file before it counts as lost
SLOW_PATH_AFTER = 3.0  # seconds without a pid file before the executor starts the supervisor itself


@dataclass(slots=True)
class _Tracked:
    popen: subprocess.Popen[bytes] | None  # None when the launcher forked it or after a reattach: not our child
    since: float  # monotonic time we began tracking
    started: bool = False
    fallback: bool = False  # we already started a supervisor ourselves after the launcher seemed not to


class LocalExecutor:
    """Runs jobs on this machine, declared as one node or several virtual nodes (the shares name the CPUs).

    spool_dir: where supervisors keep each job's spec, pid and exit record (give a path under the controller's
        state directory; the same path after a restart finds running jobs again).
    kill_wait: seconds between SIGTERM and SIGKILL when a job reaches its time limit (Slurm's KillWait).
    memory: "auto" (cgroup v2 if delegated to us, else rlimit), "cgroup", "rlimit" or "none".
    cgroup_root: a delegated, empty cgroup v2 directory to create job cgroups in (auto: our own cgroup).
    base_env: the environment every job starts from, before the user's exported variables and HAL_*/SLURM_*;
        None takes PATH, HOME, LANG, LC_*, TZ, TMPDIR, SHELL and TERM from this process, and adds `hal` to PATH.
    watch_interval: the longest gap between two memory samples of a running job (the first come after 0.1, 0.2,
        0.4 ... s); each sample reads /proc, a few ms.
    fork_server: start supervisors from a warm launcher process (a few ms each) rather than a fresh interpreter
        (about 100 ms of CPU each); the fresh interpreter remains the fallback.

    Not thread-safe: call it from one thread at a time (the controller holds its lock around every call).
    """

    name = "local"

    def __init__(
        self,
        spool_dir: Path,
        *,
        kill_wait: float = 30.0,
        memory: str = "auto",
        cgroup_root: Path | None = None,
        base_env: Mapping[str, str] | None = None,
        watch_interval: float = 5.0,
        liveness_interval: float = 1.0,
        fork_server: bool = True,
    ) -> None:
        self.spool = Spool(spool_dir)
        self.spool.own_instance()  # carried by each job's supervisor: another home's reports are not ours
        self.kill_wait = kill_wait
        self.memory = _probe(memory, cgroup_root)
        self.base_env = dict(base_env) if base_env is not None else base_environment()
        self.shims = write_shims(self.spool.root / "bin")  # `hal` and `srun` on every job's PATH
        self.watch_interval = watch_interval
        self.liveness_interval = liveness_interval
        self._tracked: dict[int, _Tracked] = {}
        self._exiting: list[subprocess.Popen[bytes]] = []  # supervisors that recorded their job, to be reaped
        self._pending: list[ExecEvent] = []
        self._last_liveness = 0.0
        self._launcher = LauncherClient(self.spool.run_dir(), _SUPERVISOR_ENV) if fork_server else None
        if self._launcher is not None:
            weakref.finalize(self, self._launcher.close)  # a forgotten executor does not leave its launcher behind

    @property
    def memory_mechanism(self) -> str:
        """In words: which memory limit jobs get here and, if not cgroups, why (log it at startup)."""
        return self.memory.detail

    # --- the Executor protocol --------------------------------------------------------------------------------

    def launch(self, spec: LaunchSpec) -> None:
        """Starts the job's supervisor and returns at once. A script that cannot run (empty, huge, binary) and an
        allocation without shares end as FAILED on the next events(), with the reason; nothing is raised except
        for a job id that is still running here (a controller bug)."""
        problem = script_problem(spec.script)
        if problem is None and not spec.shares:
            problem = "the allocation has no node shares"
        self._clear_previous(spec.job_id)
        job_dir = self.spool.job_dir(spec.job_id)
        job_dir.mkdir(parents=True)
        if problem is not None:
            self._refuse(spec.job_id, "FAILED", f"script refused: {problem}")
            return
        script = job_dir / "script"
        script.write_bytes(spec.script.encode("utf-8", "surrogateescape"))
        self.spool.write(spec.job_id, "spec.json", self._plan(spec, script))
        if self._launcher is not None and self._launcher.send(job_dir):
            self._tracked[spec.job_id] = _Tracked(None, time.monotonic())
            return
        try:
            popen = _start_supervisor(job_dir)
        except OSError as e:
            self._refuse(spec.job_id, "NODE_FAIL", f"could not start the job's supervisor: {e}")
            return
        self._tracked[spec.job_id] = _Tracked(popen, time.monotonic(), fallback=True)

    def cancel(self, job_id: int, grace: float = 10.0) -> None:
        """SIGTERM to the job's processes, SIGKILL after grace seconds; the ENDED event (CANCELLED) follows."""
        if not self.spool.job_dir(job_id).is_dir() or self.spool.end_record(job_id) is not None:
            return
        self.spool.write(job_id, "cancel.json", {"grace": max(grace, 0.0), "time": time.time()})
        pid = self.spool.read(job_id, "supervisor.pid")
        if pid is not None and proctree.alive(pid["pid"], pid["start"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid["pid"], signal.SIGUSR1)
        # no pid file yet: the supervisor reads cancel.json right after writing it

    def retime(self, job_id: int, limit: float | None) -> bool:
        """A running job's new time limit (hal update TimeLimit=): the supervisor moves its deadline, counted
        from the job's start, at SIGUSR2 (or when it starts, if it has not yet); False once the job has ended."""
        if not self.spool.job_dir(job_id).is_dir() or self.spool.end_record(job_id) is not None:
            return False
        self.spool.write(job_id, "limit.json", {"time_limit": limit, "time": time.time()})
        pid = self.spool.read(job_id, "supervisor.pid")
        if pid is not None and proctree.alive(pid["pid"], pid["start"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid["pid"], signal.SIGUSR2)
        return True

    def signal(self, job_id: int, sig: int, whom: str) -> bool:
        sup, started = self.spool.read(job_id, "supervisor.pid"), self.spool.read(job_id, "started.json")
        if sup is None or started is None or self.spool.end_record(job_id) is not None:
            return False
        if not proctree.alive(sup["pid"], sup["start"]) or not proctree.alive(started["pid"], started["start"]):
            return False
        return proctree.signal_job(sup["pid"], started["pid"], sig, whom) > 0

    def events(self) -> list[ExecEvent]:
        out, self._pending = self._pending, []
        for job_id in sorted(self.spool.marked("started")):
            tracked = self._tracked.get(job_id)
            if tracked is None:
                continue
            self.spool.unmark("started", job_id)
            info = self.spool.read(job_id, "started.json")
            if info is not None and not tracked.started:
                tracked.started = True
                out.append(ExecEvent(job_id, ExecEventKind.STARTED, info["time"]))
        for job_id in sorted(self.spool.marked("ended")):
            if job_id in self._tracked:
                record = self.spool.end_record(job_id)
                if record is not None:
                    out.append(self._ended(job_id, record))
        self._exiting = [p for p in self._exiting if p.poll() is None]
        now = time.monotonic()
        if now - self._last_liveness >= self.liveness_interval:
            self._last_liveness = now
            out.extend(self._check_liveness())
        return out

    def reattach(self, job_ids: list[int]) -> dict[int, ExecEvent | None]:
        result: dict[int, ExecEvent | None] = {}
        for job_id in job_ids:
            record = self.spool.end_record(job_id)
            if record is not None:
                self._tracked.pop(job_id, None)
                result[job_id] = self._ended(job_id, record)
                continue
            if not self.spool.job_dir(job_id).is_dir():  # another home's spool may run it: not "never ran" (QA)
                ended = self._node_fail(job_id, "no trace of the job in the spool (launched elsewhere?)")
                result[job_id] = ended and replace(ended, unknown=True)
                continue
            tracked = _Tracked(None, time.monotonic(), started=True)
            self.spool.unmark("started", job_id)  # the controller already knows it runs
            self._tracked[job_id] = tracked
            lost = self._lost(job_id, tracked)
            result[job_id] = self._node_fail(job_id, lost) if lost else None  # None: still tracked, retried
        return result

    def shutdown(self, cancel_running: bool = False, timeout: float = 10.0) -> None:
        """Stops watching. Jobs keep running under their supervisors (a restarted controller reattaches them)
        unless cancel_running, which kills them at once and waits up to timeout seconds for their records."""
        if cancel_running:
            for job_id in list(self._tracked):
                self.cancel(job_id, grace=0.0)
            deadline = time.monotonic() + timeout
            for popen in [t.popen for t in self._tracked.values() if t.popen is not None] + self._exiting:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(max(deadline - time.monotonic(), 0.01))
        self._tracked.clear()
        self._exiting = [p for p in self._exiting if p.poll() is None]
        if self._launcher is not None:
            self._launcher.stop()

    # --- beyond the protocol ----------------------------------------------------------------------------------

    def forget(self, job_ids: list[int]) -> None:
        """Deletes the spool entries of ended jobs once the controller has stored their ENDED events."""
        for job_id in job_ids:
            if job_id in self._tracked:
                continue
            shutil.rmtree(self.spool.job_dir(job_id), ignore_errors=True)
            self.spool.unmark("started", job_id)
            self.spool.unmark("ended", job_id)

    def running(self) -> list[int]:
        return sorted(self._tracked)

    def orphans(self) -> OrphanSweep:
        """At a restart: this spool's jobs the controller's database does not hold (hal/executors/orphans.py)."""
        return OrphanSweep(self.spool, self.memory)

    # --- inside -----------------------------------------------------------------------------------------------

    def _plan(self, spec: LaunchSpec, script: Path) -> dict[str, Any]:
        """What the supervisor runs, fully worked out here so the supervisor stays small and import-light."""
        stdout, stderr = output_paths(spec)
        env = job_environment(spec, self.base_env)
        env["PATH"] = with_shims(env.get("PATH"), self.shims)  # after the user's exported PATH: srun, hal
        env["HAL_MEMORY_MECHANISM"] = self.memory.kind  # tells `hal run` whether to set per-task rlimits
        first = spec.shares[0]
        limited = self.memory.kind != memory.NONE
        all_sized = all(s.mem_mb > 0 for s in spec.shares)
        return {
            "argv": [*interpreter_argv(spec.script, script), *spec.args],
            "cwd": os.path.abspath(spec.workdir),
            "env": env,
            "stdout": str(stdout),
            "stderr": str(stderr),
            "stdin": str(input_path(spec) or ""),  # --input; "": /dev/null
            "append": spec.open_mode == "append",
            "cpus": sorted(first.cpus),  # the batch script runs on the first node, as in Slurm
            "node": first.node,  # drained if its CPUs cannot be pinned
            "mem_process": first.mem_mb << 20 if limited and self.memory.kind == memory.RLIMIT else 0,
            "mem_total": sum(s.mem_mb for s in spec.shares) << 20 if limited and all_sized else 0,
            "mechanism": self.memory.kind,
            "jobs_dir": self.memory.jobs_dir,
            "time_limit": spec.time_limit,
            "kill_wait": self.kill_wait,
            "warn_signal": list(spec.warn_signal) if spec.warn_signal else None,
            "watch_interval": self.watch_interval,
            "instance": self.spool.instance,
        }

    def _clear_previous(self, job_id: int) -> None:
        """A requeued job launches again under the same id: its old spool entry goes, unless it still runs."""
        job_dir = self.spool.job_dir(job_id)
        if not job_dir.exists():
            return
        pid = self.spool.read(job_id, "supervisor.pid")
        finished = self.spool.end_record(job_id) is not None  # its supervisor may still be exiting
        if not finished and pid is not None and proctree.alive(pid["pid"], pid["start"]):
            raise RuntimeError(f"job {job_id} is still running here (supervisor pid {pid['pid']})")
        shutil.rmtree(job_dir)
        self.spool.unmark("started", job_id)
        self.spool.unmark("ended", job_id)

    def _refuse(self, job_id: int, state: str, reason: str) -> None:
        record = exit_record(job_id, state, reason)
        if state == "FAILED":
            record["exit_code"] = 1  # its script never ran: 1:0, as Slurm reports such a job
        self.spool.write_record_once(job_id, record)
        self._pending.append(ended_event(record))

    def _ended(self, job_id: int, record: dict[str, Any]) -> ExecEvent:
        tracked = self._tracked.pop(job_id, None)
        if tracked is not None and tracked.popen is not None:
            self._exiting.append(tracked.popen)  # it exits right after its record; reaped without blocking
        self.spool.unmark("started", job_id)
        self.spool.unmark("ended", job_id)
        return ended_event(record)

    def _check_liveness(self) -> list[ExecEvent]:
        out = []
        for job_id, tracked in list(self._tracked.items()):
            lost = self._lost(job_id, tracked)
            if lost:
                record = self.spool.end_record(job_id)  # it may have ended just before dying
                event = self._ended(job_id, record) if record else self._node_fail(job_id, lost)
                if event is not None:
                    out.append(event)
        return out

    def _lost(self, job_id: int, tracked: _Tracked) -> str:
        """Why the job's supervisor is gone, or "" while it lives (or may still be starting)."""
        if tracked.popen is not None:
            code = tracked.popen.poll()
            if code is None:
                return ""
            if code != ALREADY_CLAIMED:
                return f"its supervisor exited ({status_text(code)}) without recording the job's end"
            tracked.popen = None  # the launcher's supervisor won the claim: watch that one by its pid file
        pid = self.spool.read(job_id, "supervisor.pid")
        if pid is None:
            waited = time.monotonic() - tracked.since
            if waited > SLOW_PATH_AFTER and not tracked.fallback and self.spool.job_dir(job_id).is_dir():
                tracked.fallback = True  # the launcher may have died with our request: the claim makes this safe
                with contextlib.suppress(OSError):
                    tracked.popen = _start_supervisor(self.spool.job_dir(job_id))
            if waited < STARTUP_GRACE:
                return ""
            return "its supervisor never started"
        if proctree.alive(pid["pid"], pid["start"]):
            return ""
        return f"its supervisor (pid {pid['pid']}) is gone without recording the job's end"

    def _node_fail(self, job_id: int, why: str) -> ExecEvent | None:
        """The job's keeper is gone: kill what is left of the job, and record NODE_FAIL (unless a real record won).

        None when the record cannot be written (a full spool disk): the job stays tracked, and the next liveness
        check tries again, so its end is reported once the disk has room, never lost."""
        started = self.spool.read(job_id, "started.json")
        if started is not None:
            _kill_session(started["pgid"], started["start"])
        if self.memory.kind == memory.CGROUP:
            path = Path(self.memory.jobs_dir) / f"job_{job_id}"
            memory.kill_cgroup(path)
            memory.remove_cgroup(path)
        record = lost_record(job_id, why, self.spool.job_dir(job_id))
        record["start_time"] = started["time"] if started else None
        try:
            self.spool.job_dir(job_id).mkdir(parents=True, exist_ok=True)  # reattach's "no trace" has none
            if not self.spool.write_record_once(job_id, record):
                record = self.spool.end_record(job_id) or record
        except OSError as exc:
            log.warning(
                "job %s: cannot record its NODE_FAIL (%s); tracked still, retried at the next check", job_id, exc
            )
            if job_id not in self._tracked:  # reattach's "no trace": watch it so the next check retries
                self._tracked[job_id] = _Tracked(None, time.monotonic(), started=True, fallback=True)
            return None
        self._tracked.pop(job_id, None)
        self.spool.unmark("started", job_id)
        self.spool.unmark("ended", job_id)
        return ended_event(record)


def interpreter_argv(script: str, path: Path) -> list[str]:
    """Like the kernel's #! handling (interpreter plus at most one argument), done here so the spool needs no
    exec permission and a missing interpreter gets a clear message; no #! runs /bin/sh."""
    first = script.split("\n", 1)[0]
    if not first.startswith("#!"):
        return ["/bin/sh", str(path)]
    interpreter, _, arg = first[2:].strip().partition(" ")
    if "\t" in interpreter:
        interpreter, _, arg = interpreter.partition("\t")
    return [interpreter, *([arg.strip()] if arg.strip() else []), str(path)]


def _start_supervisor(job_dir: Path) -> subprocess.Popen[bytes]:
    """The slow way (a fresh interpreter), when the launcher is not there to fork one."""
    with open(job_dir / "supervisor.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-S", "-m", "hal.executors.supervisor", str(job_dir)],
            env=_SUPERVISOR_ENV,
            cwd=job_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the controller, and a Ctrl-C in its terminal
        )


def _probe(requested: str, cgroup_root: Path | None) -> memory.MemoryMechanism:
    return memory.probe(requested, cgroup_root)


def _kill_session(sid: int, start: int) -> None:
    """Kills what remains of a job whose supervisor died: the processes of its session started after it did
    (so a recycled pid can never point us at someone else's processes)."""
    for proc in proctree.scan().values():
        if proc.sid == sid and proc.start >= start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)

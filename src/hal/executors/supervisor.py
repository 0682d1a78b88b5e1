"""One job's keeper: starts it, enforces its time and memory limits, carries out cancels, and writes its exit record.

Run as `python -m hal.executors.supervisor SPOOL/jobs/ID` in its own session, so it outlives a controller killed
with SIGKILL. It is a child subreaper: every process the job leaves behind is re-parented to it, so it can kill
them all and their CPU time shows up in its RUSAGE_CHILDREN. Only the standard library is imported (fast start).
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hal.executors import limits, proctree
from hal.executors.joboutput import LaunchError, job_umask, open_input, open_output, umask
from hal.executors.proctree import BATCH, STEPS
from hal.executors.spool import Spool
from hal.executors.supervisor_beat import EVERY_S, beat

ALREADY_CLAIMED = 75  # exit code: another supervisor owns this job (the executor's fallback raced the launcher)
REAP_LIMIT = 10.0  # seconds to wait for SIGKILLed leftovers (a process in uninterruptible sleep dies late)
OOM_EXIT = (0, 125)  # an OUT_OF_MEMORY job's exit code and signal: sacct and scontrol show ExitCode=0:125


class Supervisor:
    def __init__(self, job_dir: Path) -> None:
        self.job_id = int(job_dir.name)
        self.spool = Spool(job_dir.parent.parent)
        spec = self.spool.read(self.job_id, "spec.json")
        if spec is None:
            raise NoSpec(f"no readable spec.json in {job_dir}: the launch was cut short")
        self.spec: dict[str, Any] = spec
        self.wake_r, self.wake_w = os.pipe()
        self.cancel_requested = False
        self.retime_requested = True  # limit.json (hal update TimeLimit=) may predate us: read it once at start
        self.cause = ""  # why we are killing the job: cancel, timeout or oom
        self.reason = ""
        self.kill_at: float | None = None  # monotonic time of the SIGKILL that follows a SIGTERM
        self.pgid: int | None = None
        self.cgroup: Path | None = None
        self.peak = 0  # bytes, sampled over the tree (rlimit) or read from the cgroup
        self.baseline = 0  # bytes: our own max RSS when forking, which Linux also charges to the child
        self.drain = ""  # the node to drain when the launch failed for the node's fault (its CPUs cannot be pinned)

    # --- the job's life ---------------------------------------------------------------------------------------

    def run(self) -> None:
        self._install_signals()
        proctree.become_subreaper()
        me = proctree.stat(os.getpid())
        self.spool.write(self.job_id, "supervisor.pid", {"pid": os.getpid(), "start": me.start if me else 0})
        if self._cancel_file() is not None:
            self._finish("CANCELLED", None, None, None, "cancelled after its allocation, before its script began")
            return
        try:
            child = self._start()
        except LaunchError as e:
            if self.cgroup is not None:
                limits.remove_cgroup(self.cgroup)
            self._finish("FAILED", 1, None, None, f"launch failed: {e}")  # 1:0, as Slurm shows a job that never ran
            return
        status = self._watch(child)
        self._end(status)

    def _start(self) -> subprocess.Popen[bytes]:
        spec = self.spec
        if not os.path.isdir(spec["cwd"]):
            raise LaunchError(f"working directory {spec['cwd']} does not exist or is not a directory")
        if spec["cpus"]:
            try:  # on ourselves first: a bad CPU id gives a clear error here, and the child inherits the mask
                os.sched_setaffinity(0, spec["cpus"])
            except (OSError, ValueError) as e:
                self.drain = str(spec.get("node", ""))  # the node's fault, not the job's: every job there would fail
                raise LaunchError(f"cannot pin to CPUs {spec['cpus']}: {e}") from e
        if spec["mechanism"] == limits.CGROUP and spec["mem_total"] > 0:
            self.cgroup = limits.create_job_cgroup(spec["jobs_dir"], self.job_id, spec["mem_total"])
        self.baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        argv, preexec = self._command()
        append = bool(spec.get("append"))
        with umask(job_umask(spec["env"])):  # the submitter's (sbatch's SLURM_UMASK), for its files and the job
            inp = open_input(spec["stdin"]) if spec.get("stdin") else subprocess.DEVNULL  # first: old output kept
            out = open_output(spec["stdout"], append)
            err = out if spec["stderr"] == spec["stdout"] else open_output(spec["stderr"], append)
            try:
                child = subprocess.Popen(
                    argv,
                    cwd=spec["cwd"],
                    env=spec["env"],
                    stdin=inp,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,  # its own process group: cancel signals the whole group
                    preexec_fn=preexec,
                )
            except FileNotFoundError as e:
                raise LaunchError(f"cannot execute {spec['argv'][0]!r}: not found (check the script's #! line)") from e
            except (OSError, subprocess.SubprocessError) as e:
                raise LaunchError(f"cannot execute {spec['argv'][0]!r}: {e}") from e
            finally:
                for fd in {out, err, inp} - {subprocess.DEVNULL}:
                    os.close(fd)
        self.pgid = child.pid
        self.start_wall = time.time()
        self.start_mono = time.monotonic()
        started = proctree.stat(child.pid)
        info = {"pid": child.pid, "pgid": child.pid, "start": started.start if started else 0, "time": self.start_wall}
        self.spool.write(self.job_id, "started.json", info)
        self.spool.mark("started", self.job_id)
        return child

    def _command(self) -> tuple[list[str], Callable[[], None] | None]:
        """The job's argv, with its memory limit applied on the way in. A preexec_fn would cost ~12 ms per job
        (Python then forks instead of vforking and runs the interpreter in the child), so rlimits go through
        `sh -c 'ulimit -d'` which execs into the job; only joining a cgroup needs code in the child."""
        argv = list(self.spec["argv"])
        program = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=self.spec["env"].get("PATH"))
        if program is None or not os.access(program, os.X_OK):
            raise LaunchError(f"cannot execute {argv[0]!r}: not found or not executable (check the script's #! line)")
        if self.cgroup is not None:
            cgroup = str(self.cgroup)
            return argv, lambda: limits.join_cgroup(cgroup)
        if self.spec["mem_process"] > 0:
            return limits.with_data_limit(argv, self.spec["mem_process"]), None
        return argv, None

    def _watch(self, child: subprocess.Popen[bytes]) -> int:
        """Waits for the job's main process while enforcing limits; returns its wait status."""
        limit = self.spec["time_limit"]
        deadline = self.start_mono + limit if limit else None
        warn = self.spec.get("warn_signal")
        warn_at = max(deadline - warn[1], self.start_mono) if warn and deadline is not None else None
        interval = 0.1
        next_watch = self.start_mono + interval
        while True:
            status = self._reap(child.pid)
            if status is not None:
                child.returncode = 0  # reaped here; keeps Popen from waiting on a pid that is gone
                return status
            now = time.monotonic()
            if self.cancel_requested:
                self.cancel_requested = False
                self._cancel()
            if self.retime_requested and (new := self._new_limit()) is not None:
                fired = warn is not None and warn_at is None and deadline is not None
                limit = new["time_limit"]
                deadline = self.start_mono + limit if limit else None
                warn_at = max(deadline - warn[1], self.start_mono) if warn and deadline and not fired else None
            if warn_at is not None and now >= warn_at:
                warn_at = None
                if warn and not self.cause:
                    proctree.signal_job(os.getpid(), child.pid, int(warn[0]), BATCH if warn[2] else STEPS)
            if deadline is not None and now >= deadline and not self.cause:
                self._terminate("timeout", self.spec["kill_wait"], f"time limit of {limit:g} s reached")
            if self.kill_at is not None and now >= self.kill_at:
                self._kill()
            if now >= next_watch:
                self._check_memory()
                beat(self.spool.job_dir(self.job_id))  # a sign of life: supervisor_beat.py
                interval = min(interval * 2, self.spec["watch_interval"], EVERY_S)
                next_watch = now + interval
            waits = [next_watch - now, 5.0]
            waits += [t - now for t in (deadline, self.kill_at, warn_at) if t is not None]
            self._sleep(max(min(waits), 0.0))

    def _end(self, status: int) -> None:
        end = time.time()
        self._grace_for_the_rest()
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)  # the job ends with its script, as in Slurm
        if self.cgroup is not None:
            limits.kill_cgroup(self.cgroup)
        self._reap_all()
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        oom_kills = 0
        if self.cgroup is not None:
            oom_kills, peak = limits.cgroup_stat(self.cgroup)
            self.peak = max(self.peak, peak)
            limits.remove_cgroup(self.cgroup)
        state, reason = self._verdict(exit_code, sig, oom_kills)
        if state == "OUT_OF_MEMORY":  # Slurm's ExitCode for it, whatever killed the script (it was 1:0 or 0:9)
            exit_code, sig = OOM_EXIT
        self._finish(state, exit_code, sig, self.start_wall, reason, end)

    def _verdict(self, exit_code: int | None, sig: int | None, oom_kills: int) -> tuple[str, str]:
        if self.cause == "cancel":
            return "CANCELLED", self.reason
        if self.cause == "timeout":
            return "TIMEOUT", self.reason
        if self.cause == "oom":
            return "OUT_OF_MEMORY", self.reason
        if oom_kills:
            mib = self.spec["mem_total"] >> 20
            return "OUT_OF_MEMORY", f"out of memory: the cgroup OOM killer ran {oom_kills} time(s) at {mib} MiB"
        if exit_code == 0:
            return "COMPLETED", ""
        hint = self._oom_hint()
        if hint:
            mib = self.spec["mem_process"] >> 20
            return "OUT_OF_MEMORY", f"out of memory: {hint!r} in the job's stderr under its {mib} MiB RLIMIT_DATA"
        if sig is not None:
            return "FAILED", f"killed by signal {sig} ({proctree.signame(sig)})"
        return "FAILED", f"exit code {exit_code}"

    def _finish(
        self, state: str, exit_code: int | None, sig: int | None, start: float | None, reason: str, end: float = 0.0
    ) -> None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        largest = usage.ru_maxrss * 1024  # the largest single process; not the job's when it is just our size
        peak = max(self.peak, largest if largest > self.baseline * 1.05 else 0)
        record = {
            "job_id": self.job_id,
            "state": state,
            "exit_code": exit_code,
            "signal": sig,
            "start_time": start,
            "end_time": end or time.time(),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "max_rss_mb": round(peak / 2**20, 1),
            "reason": reason,
            "instance": self.spec.get("instance") or "",  # whose spool (Spool.own_instance): that one's only
        }
        if self.drain:
            record["drain"] = self.drain
        self.spool.record_end(self.job_id, record)  # retried while the disk is full: the job's end is never lost

    # --- limits and cancels -----------------------------------------------------------------------------------

    def _cancel(self) -> None:
        request = self._cancel_file() or {}
        grace = float(request.get("grace", self.spec["kill_wait"]))
        if not self.cause and grace <= 0:  # scancel -s KILL: no SIGTERM first (its trap ran)
            self.cause, self.reason = "cancel", "cancelled: SIGKILL to the job's processes"
            self._kill()
        elif not self.cause:
            self._terminate("cancel", grace, f"cancelled: SIGTERM to the job's processes, SIGKILL after {grace:g} s")
        elif self.kill_at is not None:
            self.kill_at = min(self.kill_at, time.monotonic() + grace)  # a second, shorter cancel hurries it up

    def _terminate(self, cause: str, grace: float, reason: str) -> None:
        self.cause, self.reason = cause, reason
        proctree.signal_tree(os.getpid(), self.pgid, signal.SIGTERM)
        proctree.signal_tree(os.getpid(), self.pgid, signal.SIGCONT)  # a stopped job (STOP) cleans up too
        self.kill_at = time.monotonic() + grace

    def _grace_for_the_rest(self) -> None:
        """After a SIGTERM the main process may exit first: its children still get the grace period to clean up,
        as Slurm waits KillWait for every process of the job, not only the batch script."""
        while self.kill_at is not None and time.monotonic() < self.kill_at:
            self._reap(-1)
            if not proctree.descendants(os.getpid()):
                return
            self._sleep(max(min(0.1, self.kill_at - time.monotonic()), 0.0))
            if self.cancel_requested:
                self.cancel_requested = False
                self._cancel()

    def _kill(self) -> None:
        proctree.signal_tree(os.getpid(), self.pgid, signal.SIGKILL)
        if self.cgroup is not None:
            limits.kill_cgroup(self.cgroup)
        self.kill_at = None

    def _check_memory(self) -> None:
        """Samples peak memory; under rlimits, also the watchdog over the whole tree (rlimits are per process)."""
        if self.cgroup is not None:
            self.peak = max(self.peak, limits.cgroup_stat(self.cgroup)[1])
            return
        used, total = proctree.rss_bytes(proctree.descendants(os.getpid()))
        self.peak = max(self.peak, total)
        limit = self.spec["mem_total"]
        if self.spec["mechanism"] == limits.RLIMIT and 0 < limit < used and not self.cause:
            self.cause = "oom"
            self.reason = (
                f"out of memory: the job's processes held {used >> 20} MiB of private memory, over its "
                f"{limit >> 20} MiB (HAL's memory watchdog)"
            )
            self._kill()

    def _oom_hint(self) -> str:
        """The best evidence rlimits leave: a failing program that said it ran out of memory on its stderr."""
        return limits.oom_hint(self.spec["stderr"]) if self.spec["mem_process"] > 0 else ""

    def _new_limit(self) -> dict[str, Any] | None:
        """A running job's new time limit (seconds from its start, None: unlimited), from SIGUSR2's limit.json."""
        self.retime_requested = False
        return self.spool.read(self.job_id, "limit.json")

    def _cancel_file(self) -> dict[str, Any] | None:
        return self.spool.read(self.job_id, "cancel.json")

    # --- signals and reaping ----------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.set_wakeup_fd(self.wake_w)

        def request_cancel(signum: int, frame: object) -> None:
            self.cancel_requested = True

        for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, request_cancel)
        signal.signal(signal.SIGUSR2, lambda signum, frame: setattr(self, "retime_requested", True))
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake the select below

    def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(InterruptedError):
            select.select([self.wake_r], [], [], seconds)
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 512):
                pass

    def _reap(self, main: int) -> int | None:
        """Reaps every exited child (orphans come to us); returns the main process's status once it has exited."""
        found = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return found
            if pid == 0:
                return found
            if pid == main:
                found = status

    def _reap_all(self) -> None:
        """Kills and reaps whatever the job left. With the main process reaped, every survivor descends from one
        of our own children (we are the subreaper), so "no children" means nothing is left and /proc is not
        scanned at all in the usual case."""
        deadline = time.monotonic() + REAP_LIMIT
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid != 0:
                continue
            if time.monotonic() > deadline:
                print(f"giving up on processes still alive after {REAP_LIMIT:g} s of SIGKILL", file=sys.stderr)
                return
            proctree.signal_tree(os.getpid(), self.pgid, signal.SIGKILL)  # survivors, wherever they went
            self._sleep(0.05)


class NoSpec(RuntimeError):
    """The executor died between creating the job's directory and writing its spec: nothing of the job ran,
    so this is recorded as NODE_FAIL (requeued with --requeue), not as the job's failure."""


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m hal.executors.supervisor SPOOL/jobs/JOB_ID", file=sys.stderr)
        return 2
    job_dir = Path(argv[1]).resolve()
    try:  # exactly one supervisor per job, however many were asked to start it
        fd = os.open(job_dir / "claimed", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return ALREADY_CLAIMED
    except OSError as e:
        print(f"cannot claim {job_dir}: {e}", file=sys.stderr)
        return 1
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    supervisor = None
    try:
        supervisor = Supervisor(job_dir)
        supervisor.run()
    except Exception as e:  # the record must say what went wrong; the controller must never wait forever
        import traceback

        with contextlib.suppress(OSError, ValueError):  # our log may be on the full disk that caused this
            traceback.print_exc()
        if supervisor is not None and supervisor.pgid is not None:
            proctree.signal_tree(os.getpid(), supervisor.pgid, signal.SIGKILL)
        state = "NODE_FAIL" if isinstance(e, NoSpec) else "FAILED"
        record = {"job_id": int(job_dir.name), "state": state, "exit_code": None, "signal": None, "start_time": None}
        record.update({"end_time": time.time(), "cpu_seconds": 0.0, "max_rss_mb": 0.0})
        record["instance"] = (supervisor.spec.get("instance") or "") if supervisor is not None else ""
        record["reason"] = f"supervisor error: {type(e).__name__}: {e}"
        with contextlib.suppress(OSError):  # retried while the disk is full; given up, the executor says NODE_FAIL
            Spool(job_dir.parent.parent).record_end(int(job_dir.name), record)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

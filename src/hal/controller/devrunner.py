"""A minimal in-process subprocess runner for developing the controller before the real LocalExecutor;
it has no supervisor, so after a restart every job it ran reports NODE_FAIL."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from hal.executors.api import ExecEvent, ExecEventKind, LaunchSpec
from hal.model.job import JobState


class DevRunner:
    name = "dev"

    def __init__(self) -> None:
        self._procs: dict[int, tuple[subprocess.Popen[bytes], LaunchSpec, float]] = {}
        self._events: list[ExecEvent] = []
        self._lock = threading.Lock()
        self._timeouts: set[int] = set()
        self._stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def launch(self, spec: LaunchSpec) -> None:
        out = Path(spec.stdout.replace("%%", "%"))
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **spec.env, "HAL_JOB_ID": str(spec.job_id), "SLURM_JOB_ID": str(spec.job_id)}
        try:  # --input: named by the controller, as stdout is
            fin = open(spec.stdin.replace("%%", "%") if spec.stdin else os.devnull, "rb")  # noqa: SIM115
        except OSError as e:
            why = f"launch failed: cannot open the job's --input file {e.filename}: {e.strerror}"
            ended = ExecEvent(spec.job_id, ExecEventKind.ENDED, time.time(), JobState.FAILED, 1, reason=why)
            with self._lock:
                self._events.append(ended)
            return
        with open(out, "ab") as fh, fin:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", spec.script], cwd=spec.workdir, stdin=fin, stdout=fh, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,
            )  # fmt: skip
        with self._lock:
            self._procs[spec.job_id] = (proc, spec, time.time())

    def cancel(self, job_id: int, grace: float = 10.0) -> None:
        with self._lock:
            entry = self._procs.get(job_id)
        if entry is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(entry[0].pid, signal.SIGKILL)

    def retime(self, job_id: int, limit: float | None) -> bool:
        with self._lock:
            entry = self._procs.get(job_id)
            if entry is not None:
                self._procs[job_id] = (entry[0], dataclasses.replace(entry[1], time_limit=limit), entry[2])
        return entry is not None

    def signal(self, job_id: int, sig: int, whom: str) -> bool:
        with self._lock:
            entry = self._procs.get(job_id)
        if entry is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(entry[0].pid, sig)  # no batch shell to tell apart: the whole job
            return True
        return False

    def events(self) -> list[ExecEvent]:
        with self._lock:
            out, self._events = self._events, []
        return out

    def reattach(self, job_ids: list[int]) -> dict[int, ExecEvent | None]:
        return {
            j: ExecEvent(j, ExecEventKind.ENDED, time.time(), JobState.NODE_FAIL, reason="no supervisor")
            for j in job_ids
        }

    def shutdown(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            with self._lock:
                items = list(self._procs.items())
            for jid, (proc, spec, started) in items:
                code = proc.poll()
                if code is None:
                    if spec.time_limit is not None and time.time() - started > spec.time_limit:
                        self._timeouts.add(jid)
                        os.killpg(proc.pid, signal.SIGKILL)
                    continue
                state = JobState.COMPLETED if code == 0 else JobState.FAILED
                if jid in self._timeouts:
                    state = JobState.TIMEOUT
                ev = ExecEvent(jid, ExecEventKind.ENDED, time.time(), state, code if code >= 0 else None)
                with self._lock:
                    del self._procs[jid]
                    self._events.append(ev)

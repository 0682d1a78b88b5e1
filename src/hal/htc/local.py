"""Start a standalone session manager as a child process and wait until it listens (SDK, tests, benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from hal.htc import wire
from hal.htc.client import HtcClient


class LocalManager:
    """``with LocalManager(cpus=2) as client: ...``: a real manager process with its own engine."""

    def __init__(self, cpus: int = 2, state_dir: str | None = None, address: str | None = None) -> None:
        self._tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="hal-htc-")
        self.state_dir = Path(state_dir or self._tmp.name)  # type: ignore[union-attr]
        self.address = address or str(self.state_dir / "manager.sock")
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> HtcClient:
        cmd = [sys.executable, "-m", "hal.htc.server", "--address", self.address, "--cpus", str(self.cpus)]
        cmd += ["--state-dir", str(self.state_dir)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"session manager exited with code {self.proc.returncode}")
            try:
                wire.connect(self.address, timeout=1.0).close()
                return HtcClient(self.address)
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"session manager did not listen on {self.address} within {timeout} s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                HtcClient(self.address).shutdown()
                self.proc.wait(timeout=15)
            except (OSError, EOFError, RuntimeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> HtcClient:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid or os.getpid()}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = float(value.split()[0]) / 1024.0
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)

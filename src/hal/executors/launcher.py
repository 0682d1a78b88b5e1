"""A fork server for supervisors: one warm process per executor forks each job's supervisor in a few milliseconds
instead of starting a fresh interpreter (about 100 ms of CPU on a small machine).

The executor writes a job directory path and a newline on a Unix stream socket; the launcher forks, and the child
becomes the job's supervisor in a new session. The launcher is only an accelerator: if it is gone or slow, the
executor starts `python -m hal.executors.supervisor` itself, and a supervisor claims its job exclusively, so a
job can never start twice. The launcher starts with the executor's first launch and exits when the executor
closes its connection or dies (the supervisors it forked live on).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hal.executors import proctree, supervisor


def short_path(path: Path) -> tuple[str, int]:
    """A name for the socket that fits AF_UNIX's 108 bytes however deep the spool is: through an O_PATH descriptor
    of its directory. Returns the name and the descriptor (keep it open while the name is used)."""
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    return f"/proc/self/fd/{fd}/{path.name}", fd


def serve(path: str, parent: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(short_path(Path(path))[0])
    server.listen(8)
    clients: dict[socket.socket, bytes] = {}
    served = False
    try:
        while True:
            orphaned = os.getppid() != parent  # then one last pass: what the executor sent before dying still runs
            ready, _, _ = select.select([server, *clients], [], [], 0.0 if orphaned else 0.5)
            _reap()
            for sock in ready:
                if sock is server:
                    conn, _ = server.accept()
                    clients[conn] = b""
                    served = True
                    continue
                data = sock.recv(65536)
                if not data:  # the executor closed: a trailing partial line is dropped, never half-read
                    del clients[sock]
                    sock.close()
                    continue
                *lines, clients[sock] = (clients[sock] + data).split(b"\n")
                for line in lines:
                    if line == b"quit":
                        return
                    if line:
                        _fork_supervisor(line.decode(), [server, *clients])
            if orphaned or (served and not clients):  # our executor is gone (died, or dropped us)
                return
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _fork_supervisor(job_dir: str, sockets: list[socket.socket]) -> None:
    try:
        pid = os.fork()
    except OSError:
        return  # the executor's liveness check finds the job unclaimed and starts it the slow way
    if pid != 0:
        return
    code = 1
    try:
        for sock in sockets:
            sock.close()
        os.setsid()
        os.chdir(job_dir)
        proctree.set_name(f"hal-sup-{os.path.basename(job_dir)}")
        log = os.open(os.path.join(job_dir, "supervisor.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        code = supervisor.main(["supervisor", job_dir])
    except BaseException:
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class LauncherClient:
    """The executor's side: starts the launcher, hands it job directories, and gives up on it at the first error
    (the caller then starts the supervisor the slow way)."""

    RETRY = 10.0  # seconds before trying to reach or restart a launcher that failed

    def __init__(self, run_dir: Path, python_env: dict[str, str]) -> None:
        self.path = run_dir / f"launcher-{os.getpid()}-{id(self) % 100000}.sock"
        self.env = python_env
        self.process: subprocess.Popen[bytes] | None = None
        self.conn: socket.socket | None = None
        self.next_try = 0.0
        self.started_at = 0.0
        self.connected = False
        self.address, self.dir_fd = short_path(self.path)
        _remove_stale(run_dir)

    def send(self, job_dir: Path) -> bool:
        if time.monotonic() < self.next_try:
            return False
        if self.process is None or self.process.poll() is not None:
            if self.process is None or time.monotonic() - self.started_at > self.RETRY:
                self._start()  # it needs a moment to listen; this job goes the slow way
            return False
        try:
            if self.conn is None:
                self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.conn.settimeout(2.0)
                self.conn.connect(self.address)
                self.connected = True
            self.conn.sendall(str(job_dir).encode() + b"\n")
            return True
        except OSError:
            self._drop(retry=True, soon=not self.connected)  # not listening yet, or broken
            return False

    def stop(self) -> None:
        """Closing our connection ends the launcher once it has forked what it received; one we never reached has
        nothing pending and is terminated at once."""
        self.close()
        if self.process is None:
            return
        if self.connected:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(2.0)
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)

    def close(self) -> None:
        self._drop(retry=False)
        with contextlib.suppress(OSError):
            os.close(self.dir_fd)
        self.dir_fd = -1

    def _start(self) -> None:
        self._drop(retry=False)
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-m", "hal.executors.launcher", str(self.path), str(os.getpid())],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.connected = False
        self.next_try = self.started_at + 0.1

    def _drop(self, retry: bool = True, soon: bool = False) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if retry:
            self.next_try = time.monotonic() + (0.1 if soon else self.RETRY)


def _remove_stale(run_dir: Path) -> None:
    """Sockets left by launchers killed with their executor (named launcher-<executor pid>-<n>.sock)."""
    for sock in run_dir.glob("launcher-*.sock"):
        owner = sock.name.split("-")[1]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            with contextlib.suppress(OSError):
                sock.unlink()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m hal.executors.launcher SOCKET PARENT_PID", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the controller's terminal is not for us
    serve(argv[1], int(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

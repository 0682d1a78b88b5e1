"""A real `hal server` in a subprocess on a free loopback port, with the real CLI and SDK pointed at it."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx

from hal.client import Client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "local-cluster.toml"
HAL = [sys.executable, "-m", "hal"]
T = TypeVar("T")


def _die_with_parent() -> None:
    """In the server's child process: SIGKILL it when the test process dies (a killed pytest leaves none)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Owns one server process; ``kill()`` is SIGKILL, ``start()`` again restarts on the same state and port."""

    def __init__(self, tmp: Path, *extra: str, cluster: Path = EXAMPLE) -> None:
        self.home = tmp / "home"
        self.work = tmp / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.cluster = cluster
        self.extra = extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "server.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAL_")}
        return {**env, "HAL_HOME": str(self.home), "HAL_URL": self.url}

    def start(self, timeout: float = 90.0) -> None:
        args = [*HAL, "server", "--port", str(self.port), "--home", str(self.home), "--cluster", str(self.cluster)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*args, "--grace", "1", *self.extra], env=self.env, stdout=log, stderr=log, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + timeout
        # One plain-http client for every look: httpx.get() built a TLS context each time (~50 ms of CPU, taken
        # from the starting server on a 2-core machine); looks every 0.05 s see it answer sooner.
        with httpx.Client(verify=False, timeout=1) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hal server exited with {self.proc.returncode}:\n{self.log.read_text()}")
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"hal server did not answer within {timeout} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self) -> str:
        return (self.home / "token").read_text().strip()

    def client(self, token: str | None = None) -> Client:
        return Client(self.url, token or self.token(), workdir=str(self.work))

    def cli(
        self, *args: str, token: str | None = None, check: bool = False, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        env = self.env if token is None else {**self.env, "HAL_TOKEN": token}
        res = subprocess.run(
            [*HAL, *args], env=env, cwd=self.work, capture_output=True, text=True, timeout=120, input=stdin
        )
        if check and res.returncode != 0:
            raise AssertionError(f"hal {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def new_user(self, user: str, admin: bool = False) -> str:
        """A token for ``user``, made through the server's API (POST /v1/tokens, as an administrator): `hal token
        create` took ~3 s per user (its import of the server), and test_live_jobs tests that command itself."""
        with self.client() as c:
            return c.create_token(user, admin)


def submit(live: LiveServer, wrap: str = "true", *, token: str | None = None, script: str = "", **options: Any) -> str:
    """A job submitted through the SDK (POST /v1/jobs, as `hal submit` sends it) where the CLI is not what a test
    tests: a `hal submit` process cost ~0.4 s a job (~1 s on a loaded machine). Options are sbatch's long names with
    ``_`` for ``-`` (``ntasks_per_node="2"``); ``script`` replaces ``wrap`` (the script's text)."""
    opts = {k.replace("_", "-"): v for k, v in options.items()}
    with live.client(token) as c:
        done = c.submit(script, wrap=None if script else wrap, options=opts)
    return str(done["job_id"])


def cancel(live: LiveServer, *jobs: str, token: str | None = None) -> None:
    """`hal cancel JOBS` through the SDK, for tests that only clean up or move on; fails on any job refused."""
    with live.client(token) as c:
        _, failed = c.cancel_many(list(jobs))
    assert not failed, failed


def finished(live: LiveServer, job: str, timeout: float = 60.0, token: str | None = None) -> str:
    """The state the job (every task of an array) ended in, as `hal wait JOB` waits for it (it exits 0 only on
    COMPLETED), without a CLI process."""
    with live.client(token) as c:
        return str(c.wait(job, timeout=timeout)["state"])


def nodes(live: LiveServer) -> dict[str, dict[str, Any]]:
    """The nodes by name, as `hal nodes --json` prints them (the SDK call it makes)."""
    with live.client() as c:
        return {n["name"]: n for n in c.nodes()["nodes"]}


def concurrently(*calls: Callable[[], T]) -> list[T]:
    """The calls' results in order, made side by side (4 at a time): for CLI commands that only read or are
    refused, whose order is not what is tested. Each process spends ~0.4 s starting, and listings may wait on
    the server; one after another, a test added all of that up."""
    with ThreadPoolExecutor(min(4, len(calls))) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def serve_cluster(tmp_path_factory: Any, name: str, cluster_toml: str) -> Iterator[LiveServer]:
    """A module's server on its own small cluster file (for a module-scoped fixture to ``yield from``)."""
    tmp = tmp_path_factory.mktemp(name)
    cluster = tmp / f"{name}.toml"
    cluster.write_text(cluster_toml)
    live = LiveServer(tmp, cluster=cluster)
    live.start()
    yield live
    live.stop()


@contextlib.contextmanager
def served(tmp: Path, cluster_toml: str, *extra: str, file: str = "cluster.toml") -> Iterator[LiveServer]:
    """A server started on ``cluster_toml``, written to ``tmp / file``; stopped when the block ends."""
    cluster = tmp / file
    cluster.write_text(cluster_toml)
    live = LiveServer(tmp, *extra, cluster=cluster)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def restart_on(live: LiveServer, cluster_toml: str) -> None:
    """SIGKILL the server, rewrite its cluster file as ``cluster_toml`` and start it again (same state and port)."""
    live.kill()
    live.cluster.write_text(cluster_toml)
    live.start()


def wait_running(live: LiveServer, job: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if show(live, job)["state"] == "RUNNING":
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job} never ran")


def gated(gate: Path, then: str = "true", most: int = 120) -> str:
    """A job script line that waits until the test creates ``gate``, then runs ``then``: the job runs exactly as
    long as the test needs it running (a fixed `sleep` had to guess, and the test waited out the guess). It stops
    waiting after ``most`` seconds or so, so a test that failed before opening the gate leaves no job behind."""
    return f"n=0; while [ ! -e {gate} ] && [ $n -lt {most * 20} ]; do sleep 0.05; n=$((n+1)); done; {then}"


def wait_ended_offline(live: LiveServer, job: str, timeout: float = 30.0) -> None:
    """While no server runs: wait until the job's supervisor has written its exit record (the spool's ``ended``
    marker), i.e. the job ended while the controller was down."""
    marker = live.home / "spool" / "ended" / job
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert time.monotonic() < deadline, f"job {job} did not end within {timeout} s"
        time.sleep(0.05)


def register_app(live: LiveServer, name: str, target: str, **limits: Any) -> None:
    """An HTC application registered as an administrator does it over REST (POST /v1/apps)."""
    headers = {"Authorization": f"Bearer {live.token()}"}
    body = {"name": name, "target": target, **limits}
    assert httpx.post(f"{live.url}/v1/apps", json=body, headers=headers).status_code == 201


def show(live: LiveServer, job: str) -> dict[str, Any]:
    """The job's record as `hal show JOB --json` prints it (the SDK call it makes): polled in-process, as a CLI
    process per poll kept a core busy and slowed the server under test (tests call `hal show` where they test it)."""
    with live.client() as c:
        return dict(json.loads(json.dumps(c.get(job, start=True), default=str)))


def until_state(live: LiveServer, job: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
    """The job's record once it is in ``state``; fails after ``timeout`` s with the last record seen."""
    deadline = time.monotonic() + timeout
    while (rec := show(live, job))["state"] != state:
        assert time.monotonic() < deadline, rec
        time.sleep(0.1)
    return rec


def tuned_start_log(tmp: Path, estimate: str) -> str:
    """What `hal server --profile P` says until it names its runtime predictor, P a tuned order fitted on
    ``estimate`` predictions (the server is stopped then)."""
    prof = tmp / "p.toml"
    prof.write_text(f'order = "tuned"\nbackfill = "easy"\nestimate = "{estimate}"\n[order_args]\nw_pred = 1.0\n')
    log = tmp / "log"
    cmd = [*HAL, "server", "--home", str(tmp / "h"), "--port", "0", "--profile", str(prof)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "runtime predictor" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log.read_text()

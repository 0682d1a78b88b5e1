"""How a service instance process is started: its command, environment, cores, GPUs and memory limit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from hal.executors.jobenv import drop_gpu_variables, gpu_variables
from hal.htc import guard
from hal.htc.app import Application
from hal.htc.beacon import Beacon
from hal.htc.slots import SlotProvider
from hal.model.resources import Resources


def spawn_instance(
    address: str, provider: SlotProvider, iid: int, app: Application, cpus: tuple[int, ...], gpus: tuple[int, ...]
) -> tuple[subprocess.Popen[bytes], Beacon]:
    """A service instance on the slot's cores and GPUs (their variables, as a batch job's: the server's own
    dropped, the vendors' where the machine has GPUs), under the application's memory limit (RLIMIT_DATA here,
    the watchdog in the loop); in its own session, so its process group is everything its tasks start."""
    gpu_machine = bool(gpus) or provider.never(Resources(cpus=1, gpus=1)) is None
    drop_gpu_variables(env := dict(os.environ), None, gpu_machine)
    env.update({**app.env, **gpu_variables(gpus)})
    beacon = Beacon(f"hal-htc-{iid}")
    cmd = [sys.executable, "-m", "hal.htc.worker", "--address", address, "--instance", str(iid)]
    cmd += ["--cpus", ",".join(map(str, cpus)), "--mem-mb", str(app.mem_mb), "--beacon-fd", str(beacon.fd)]
    argv = guard.limited_argv(cmd, app.mem_mb)
    log = instance_log(address, app.name, iid)
    try:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(beacon.fd,),
                                stdout=log, stderr=subprocess.STDOUT if log is not None else None)  # fmt: skip
    finally:
        beacon.close()  # the instance has its own copy; the mapping stays ours
        if log is not None:
            log.close()
    return proc, beacon


def instance_log(address: str, app: str, iid: int) -> IO[bytes] | None:
    """What an instance's tasks print goes to ``htc-logs/APP-IID.log`` beside the manager's socket (QA: it went,
    unattributed, into the server's own log, and one task's 100 MB flooded it); None over TCP (inherited)."""
    if address.startswith("tcp://"):
        return None
    folder = Path(address).parent / "htc-logs"
    folder.mkdir(mode=0o700, exist_ok=True)
    return open(folder / f"{app}-{iid}.log", "ab")  # the child keeps it open; ours is closed once it started

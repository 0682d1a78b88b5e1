"""A test module run again as a script inside a private mount namespace (``unshare -rm``) with a real small tmpfs
as one node's cache folder, or all of them: disks smaller than cache_bytes, without root. Skipped where that is not
allowed. The scripts build their controller with ``data_controller``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hal.controller.core import Controller
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import LiveStaging, enable
from hal.executors.local import LocalExecutor

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


def in_small_tmpfs(
    script: str, tmp_path: Path, node: str, *args: str, size: str = "8M"
) -> subprocess.CompletedProcess[str]:
    """``script`` run as ``python script TMP_PATH ARGS...`` with a tmpfs of ``size`` mounted on TMP_PATH/cache/NODE
    (``node`` empty: on TMP_PATH/cache, every node's cache on one disk)."""
    small = tmp_path / "cache" / node
    small.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))}
    mount = f'mount -t tmpfs -o size={size} tmpfs "$1" && shift && exec "$@"'
    cmd = ["unshare", "-rm", "sh", "-c", mount, "sh", str(small), sys.executable, script, str(tmp_path), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False)


def small_tmpfs(script: str, tmp_path: Path, node: str, size: str = "8M") -> Run:
    """``in_small_tmpfs`` bound to ``script``, after a probe run (argument ``probe``: the script exits 0 at once)."""
    try:
        probe = in_small_tmpfs(script, tmp_path / "probe", node, "probe", size=size).returncode == 0
    except (OSError, subprocess.SubprocessError):
        probe = False
    if not probe:
        pytest.skip("needs unshare and a tmpfs mount in a private mount namespace")
    return lambda *args: in_small_tmpfs(script, tmp_path, node, *args, size=size)


def result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the script printed last, once it exited 0."""
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def data_controller(
    tmp: Path, data: dict[str, Any], datasets: dict[str, int] | None = None
) -> tuple[Controller, LiveStaging]:
    """A real controller over TMP/c.toml, its data plane on (caches TMP/cache/{node}, catalog TMP/cat.json, the rest
    of the [data] table from ``data``); ``datasets``: name -> size of random files made in TMP/store and registered."""
    ctl = Controller(Store(sqlite_url(tmp / "hal.db")), Machine.load(tmp / "c.toml"),
                     LocalExecutor(tmp / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    staging = enable(ctl, {"cache_dir": str(tmp / "cache" / "{node}"), "catalog": str(tmp / "cat.json"), **data})
    store = tmp / "store"
    for name, size in (datasets or {}).items():
        store.mkdir(exist_ok=True)
        (store / name).write_bytes(os.urandom(size))
        staging.stager.catalog.register_file(name, str(store / name))
    return ctl, staging

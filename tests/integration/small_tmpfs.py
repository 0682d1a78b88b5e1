"""A test module run again as a script inside a private mount namespace (``unshare -rm``) with a real 8M tmpfs as
one node's cache folder: disks smaller than cache_bytes, without root. Skipped where that is not allowed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


def in_small_tmpfs(script: str, tmp_path: Path, node: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``script`` run as ``python script TMP_PATH ARGS...`` with an 8M tmpfs mounted on TMP_PATH/cache/NODE."""
    small = tmp_path / "cache" / node
    small.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))}
    mount = 'mount -t tmpfs -o size=8M tmpfs "$1" && shift && exec "$@"'
    cmd = ["unshare", "-rm", "sh", "-c", mount, "sh", str(small), sys.executable, script, str(tmp_path), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False)


def small_tmpfs(script: str, tmp_path: Path, node: str) -> Run:
    """``in_small_tmpfs`` bound to ``script``, after a probe run (argument ``probe``: the script exits 0 at once)."""
    try:
        probe = in_small_tmpfs(script, tmp_path / "probe", node, "probe").returncode == 0
    except (OSError, subprocess.SubprocessError):
        probe = False
    if not probe:
        pytest.skip("needs unshare and a tmpfs mount in a private mount namespace")
    return lambda *args: in_small_tmpfs(script, tmp_path, node, *args)


def result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the script printed last, once it exited 0."""
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return got

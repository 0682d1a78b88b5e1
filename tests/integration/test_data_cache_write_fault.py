"""A node's cache that breaks during a copy (its disk fills up): the stage-in was counted as a failed transfer
against the job (retried, then requeued with a restart and held ``requeue_wait`` s) and the node stayed in
service, failing every job sent there. Now the node is drained with the reason, as a failed prolog drains a
Slurm node, and the job runs elsewhere without using an attempt. Real files, a real controller and local
executor; the full disk is the kernel's own ENOSPC."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.controller.directives import build_request
from hal.data.catalog import CHUNK, Dataset
from tests.integration.test_data_live import data_controller

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and Path("/dev/full").exists()), reason="needs /proc/self/fd and /dev/full"
)


class FillingFS(LocalFileSystem):  # type: ignore[misc]
    """Local files whose reading fills the disk of the first node cache they are copied into: once a first chunk
    is written there, the copy's file descriptor is swapped for /dev/full, so its next write fails with ENOSPC
    as on a full disk. Every later copy into that node fails the same way (the disk stays full)."""

    protocol = "halfull"
    full: ClassVar[str] = ""  # the cache folder whose disk is full
    filled: ClassVar[list[str]] = []  # one entry per copy made to fail

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halfull://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        return _Filling(super()._open(path, mode, *args, **kwargs))


class _Filling:
    def __init__(self, inner: Any) -> None:
        self.inner, self.reads = inner, 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads == 2:  # the first chunk is in the cache copy by now
            _fill_disk()
        return bytes(self.inner.read(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


_LOCK = threading.Lock()


def _fill_disk() -> None:
    """The cache copy being written (a ``.partial`` file open in this process) now writes to /dev/full."""
    with _LOCK:
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if not target.endswith(".partial") or "/cache/" not in target:
                continue
            folder = str(Path(target).parent)
            FillingFS.full = FillingFS.full or folder
            if folder == FillingFS.full:
                full = os.open("/dev/full", os.O_WRONLY)
                os.dup2(full, int(fd))
                os.close(full)
                FillingFS.filled.append(target)


fsspec.register_implementation("halfull", FillingFS, clobber=True)


def test_a_cache_that_fills_up_mid_copy_drains_its_node_and_the_job_runs_elsewhere(tmp_path: Path) -> None:
    FillingFS.full, FillingFS.filled = "", []
    data = {"cache_bytes": "32M", "attempts": 3, "backoff": 0.01, "max_requeues": 2, "requeue_wait": 600}
    ctl, staging = data_controller(tmp_path, {**data, "catalog": str(tmp_path / "cat.json")})
    src = tmp_path / "store" / "big"
    src.parent.mkdir()
    body = os.urandom(CHUNK + 2_000_000)  # two chunks: the disk fills after the first
    src.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    staging.stager.catalog.register(Dataset("big", len(body), f"sha256:{digest}", f"halfull://{src}"))
    ctl.start()
    try:
        script = f'#!/bin/sh\nsha256sum < "$HAL_DATA/big" > "{tmp_path / "got"}"\n'
        (job,) = ctl.submit(build_request(script, {"input-data": "big"}, {}, str(tmp_path), 0), "al").job_ids
        deadline = time.monotonic() + 20
        while job in ctl.live:
            assert time.monotonic() < deadline, {k: (ctl.store.get(job) or {}).get(k) for k in ("restarts", "cause")}
            time.sleep(0.05)
    finally:
        ctl.stop()
        staging.shutdown()
    full = Path(FillingFS.full).name
    row = ctl.store.get(job) or {}
    assert row["state"] == "COMPLETED" and row["restarts"] == 0 and row["nodelist"] != full, row  # ran elsewhere
    assert len(FillingFS.filled) == 1  # the full disk was not tried again: no retry helps there
    reason = ctl.drained[full]["reason"]
    assert "data cache unusable" in reason and "No space left on device" in reason and full in reason, reason
    cache = staging.stager.caches[full]
    assert not cache.reserved and not cache.entries and not list(cache.root.glob(".*.partial"))
    assert (tmp_path / "got").read_text().split()[0] == digest

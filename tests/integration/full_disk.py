"""An fsspec local filesystem (``halfull://PATH``) whose copies into a node cache hit a full disk mid-copy: once a
first chunk is written, the copy's file descriptor is swapped for /dev/full, so its next write fails with ENOSPC.
``FullDiskFS.fails`` says which cache copies (``.partial`` files open in this process) fail; the tests of a cache
that fills up and of a disk too small for a job's inputs share it."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.data.catalog import CHUNK, Dataset

needs_dev_full = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and Path("/dev/full").exists()), reason="needs /proc/self/fd and /dev/full"
)


def _never(target: str) -> bool:
    return False


class FullDiskFS(LocalFileSystem):  # type: ignore[misc]
    protocol = "halfull"
    fails: ClassVar[Callable[[str], bool]] = staticmethod(_never)  # which cache copies hit the full disk
    filled: ClassVar[list[str]] = []  # one entry per copy made to fail

    @classmethod
    def reset(cls, fails: Callable[[str], bool]) -> None:
        cls.fails, cls.filled = staticmethod(fails), []

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
            _fill()
        return bytes(self.inner.read(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


_LOCK = threading.Lock()


def _fill() -> None:
    """Every cache copy being written that ``FullDiskFS.fails`` picks now writes to /dev/full."""
    with _LOCK:
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.endswith(".partial") and FullDiskFS.fails(target):
                full = os.open("/dev/full", os.O_WRONLY)
                os.dup2(full, int(fd))
                os.close(full)
                FullDiskFS.filled.append(target)


fsspec.register_implementation("halfull", FullDiskFS, clobber=True)


def big_dataset(tmp_path: Path, catalog: Any) -> tuple[int, str]:
    """Dataset "big" of two chunks read through halfull:// (the disk fills after the first); its size and sha256."""
    src = tmp_path / "store" / "big"
    src.parent.mkdir()
    body = os.urandom(CHUNK + 2_000_000)
    src.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    catalog.register(Dataset("big", len(body), f"sha256:{digest}", f"halfull://{src}"))
    return len(body), digest

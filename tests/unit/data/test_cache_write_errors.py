"""A write into a node's own cache that fails (a full or read-only disk, a file where its folder was) is the node's
fault: the stager stops at once with CacheWriteError naming the node, instead of retrying every source and
blaming the data; a source that fails to read is still retried, as before."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.data.cache import CacheWriteError, NodeCache, local_write
from hal.data.catalog import CHUNK, Catalog
from hal.data.stager import RetryPolicy, StageError, Stager


class HookedFS(LocalFileSystem):  # type: ignore[misc]
    """Local files; ``hook`` runs before the second read of a copy (its first chunk written by then)."""

    protocol = "halhooked"
    hook: ClassVar[Callable[[], None]] = staticmethod(lambda: None)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halhooked://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        inner, reads = super()._open(path, mode, *args, **kwargs), [0]
        plain_read = inner.read

        def read(size: int = -1) -> bytes:
            reads[0] += 1
            if reads[0] == 2:
                HookedFS.hook()
            return bytes(plain_read(size))

        inner.read = read
        return inner


fsspec.register_implementation("halhooked", HookedFS, clobber=True)


def _plane(tmp_path: Path) -> tuple[Catalog, dict[str, NodeCache], Stager, list[float]]:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {n: NodeCache(n, tmp_path / "cache" / n, capacity=32 << 20) for n in ("n0", "n1")}
    slept: list[float] = []
    return catalog, caches, Stager(catalog, caches, RetryPolicy(attempts=3, backoff=0.01), sleep=slept.append), slept


def _big(tmp_path: Path, catalog: Catalog) -> Path:
    """A dataset of a chunk and a bit, read through the hooked file system."""
    src = tmp_path / "store" / "big"
    src.parent.mkdir()
    src.write_bytes(b"z" * (CHUNK + 1000))
    catalog.register_file("big", f"halhooked://{src}")
    return src


def test_a_cache_folder_replaced_mid_copy_fails_the_node_not_the_data(tmp_path: Path) -> None:
    catalog, caches, stager, slept = _plane(tmp_path)
    _big(tmp_path, catalog)
    root = caches["n0"].root

    def break_cache() -> None:  # the folder moved away, a file in its place (any user, root too, is refused)
        root.rename(root.with_name("moved"))
        root.write_text("not a folder")

    HookedFS.hook = staticmethod(break_cache)
    try:
        with pytest.raises(CacheWriteError) as err:
            stager.stage_in(1, ("big",), ["n0"])
    finally:
        HookedFS.hook = staticmethod(lambda: None)
    assert err.value.node == "n0" and err.value.errno == errno.ENOTDIR and str(root) in str(err.value)
    assert slept == [] and not caches["n0"].reserved  # one try, its room given back
    assert "n0" not in {r.location for r in catalog.replicas_of("big")}
    root.unlink()
    shutil.rmtree(root.with_name("moved"))
    assert stager.stage_in(2, ("big",), ["n1"])[0].bytes_copied == CHUNK + 1000  # the data itself is fine


def test_a_source_that_fails_to_read_is_still_retried(tmp_path: Path) -> None:
    catalog, caches, stager, slept = _plane(tmp_path)
    src = _big(tmp_path, catalog)

    def broken_storage() -> None:
        raise OSError(errno.EIO, "Input/output error", str(src))

    HookedFS.hook = staticmethod(broken_storage)
    try:
        with pytest.raises(StageError, match="Input/output error") as err:
            stager.stage_in(1, ("big",), ["n0"])
    finally:
        HookedFS.hook = staticmethod(lambda: None)
    assert not isinstance(err.value, CacheWriteError) and err.value.attempts == 3 and len(slept) == 2
    assert not list(caches["n0"].root.glob(".*.partial"))


def test_only_the_caches_own_failures_are_the_nodes(tmp_path: Path) -> None:
    def fail(code: int) -> None:
        raise OSError(code, "failed")

    for code in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
        with pytest.raises(CacheWriteError) as err:
            local_write(tmp_path / "x", fail, code)
        assert err.value.errno == code and err.value.filename == str(tmp_path / "x")
    with pytest.raises(FileNotFoundError):  # a folder wiped under a copy: the next attempt makes it again
        local_write(tmp_path / "x", fail, errno.ENOENT)

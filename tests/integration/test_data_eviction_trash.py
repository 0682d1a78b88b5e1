"""Evicted and dropped copies are deleted outside the controller's lock (QA: rm -rf of a 20,000-file folder dataset
under it took 17 s and `hal queue` timed out), and trash a killed server left is deleted off the start path. A
real controller, real caches and files; ``shutil.rmtree`` is only watched (it still deletes)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hal.data.live import LiveStaging
from tests.integration.test_data_live import data_controller


def _watch_rmtree(monkeypatch: pytest.MonkeyPatch, lock: Any) -> list[tuple[str, bool, str]]:
    """(path, whether the controller's lock was held by the deleting thread, that thread's name) per rmtree."""
    seen: list[tuple[str, bool, str]] = []
    real = shutil.rmtree

    def watched(path: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((str(path), lock._is_owned(), threading.current_thread().name))
        real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", watched)
    return seen


def _gone(root: Path, name: str, timeout: float = 20.0) -> bool:
    """Whether ``name`` and every trash entry left ``root`` within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p.name for p in root.iterdir() if p.name == name or p.name.endswith(".trash")]
        if not left:
            return True
        time.sleep(0.05)
    return False


def _tree(folder: Path, files: int) -> Path:
    for i in range(files):
        (folder / f"d{i % 10}").mkdir(parents=True, exist_ok=True)
        (folder / f"d{i % 10}" / f"f{i}.bin").write_bytes(bytes([i % 251]) * 1000)
    return folder


def test_evicting_a_folder_dataset_deletes_it_outside_the_controllers_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, staging = data_controller(tmp_path, {"cache_bytes": "1M", "catalog": str(tmp_path / "cat.json")})
    stager, node = staging.stager, ctl.table.names[0]
    catalog, cache = stager.catalog, stager.caches[node]
    catalog.register_file("tree", str(_tree(tmp_path / "store" / "tree", 400)))  # 400,000 bytes in 400 files
    (tmp_path / "store" / "big").write_bytes(b"x" * 800_000)
    catalog.register_file("big", str(tmp_path / "store" / "big"))
    try:
        stager.stage_in(1, ("tree",), [node])
        stager.release(1)
        deletions = _watch_rmtree(monkeypatch, ctl.lock)
        stager.stage_in(2, ("big",), [node])  # 1M holds not both: the tree is evicted
        assert "tree" not in cache.entries and "big" in cache.entries
        assert node not in catalog.replicas.get("tree", {})  # out of the books at once
        assert _gone(cache.root, "tree"), sorted(p.name for p in cache.root.iterdir())
        assert deletions and not [d for d in deletions if d[1]], deletions  # never under the controller's lock
        assert cache.trash.pending() == 0 and not cache.trash.busy()
    finally:
        staging.shutdown()


def test_trash_a_killed_server_left_is_deleted_off_the_start_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill -9 mid-deletion leaves the renamed tree: the next start hands it to the deleting thread instead of
    deleting it before it listens (QA: unreachable ~19 s), and does not take it for a dataset."""
    folder = tmp_path / "cache" / "vn000"
    _tree(folder / ".tree.0123abcd.trash", 300)
    seen = _watch_rmtree(monkeypatch, threading.RLock())  # the thread is what counts here
    _, staging = data_controller(tmp_path, {"cache_bytes": "1M", "catalog": str(tmp_path / "cat.json")})
    try:
        assert isinstance(staging, LiveStaging)
        cache = staging.stager.caches["vn000"]
        assert not cache.entries and cache.used() == 0
        assert _gone(folder, "tree")
        starter = threading.current_thread().name
        assert seen and all(thread != starter for _, _, thread in seen), seen
    finally:
        staging.shutdown()

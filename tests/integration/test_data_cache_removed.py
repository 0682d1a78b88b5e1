"""A node's cache folder removed behind HAL's back while the server runs (QA: it stayed "full", its replicas
listed and its lock file gone, until a job touched those copies): the periodic check makes it again, locked,
and forgets what it held, in the cache and in the catalog, with one warning naming the folder."""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from hal.data.owner import CACHE_LOCK
from tests.integration.test_data_live import data_controller


def _check_often(monkeypatch: Any) -> None:
    try:
        import hal.data.cache_roots as roots
    except ImportError:  # the code before the check: the test fails on what it finds instead
        return
    monkeypatch.setattr(roots, "CHECK_EVERY", 0.05)


def _locked(path: Path) -> bool:
    """Whether some holder (this server) has ``path`` flocked."""
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_removed_cache_folder_is_made_again_and_forgets_its_copies(
    tmp_path: Path, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _check_often(monkeypatch)
    ctl, staging = data_controller(tmp_path, {"cache_bytes": "4M", "catalog": str(tmp_path / "catalog.json")})
    stager, catalog = staging.stager, staging.stager.catalog
    node, other = ctl.table.names[0], ctl.table.names[1]
    src = tmp_path / "store" / "reads"
    src.parent.mkdir()
    src.write_bytes(b"GATTACA" * 10_000)
    catalog.register_file("reads", str(src))
    stager.stage_in(0, ("reads",), [node, other])
    stager.release(0)
    cache = stager.caches[node]
    assert cache.used() == 70_000 and {node, other} <= {r.location for r in catalog.replicas_of("reads")}
    caplog.set_level(logging.WARNING, logger="hal.data")
    try:
        shutil.rmtree(cache.root)  # rm -rf of the node's cache folder while the server runs
        deadline = time.monotonic() + 5
        while not (cache.root / CACHE_LOCK).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # later passes find it whole: said once
    finally:
        staging.shutdown()
    assert cache.root.is_dir() and _locked(cache.root / CACHE_LOCK) is False  # released by the shutdown
    assert cache.used() == 0 and "reads" not in cache.entries  # `hal nodes --long` shows it empty
    assert {r.location for r in catalog.replicas_of("reads")} == {"origin", other}  # `hal dataset list`
    assert stager.caches[other].used() == 70_000  # the other node's copy untouched
    said = [r.getMessage() for r in caplog.records if "removed behind HAL's back" in r.getMessage()]
    assert len(said) == 1 and str(cache.root) in said[0] and "reads" in said[0]


def test_the_remade_folder_is_locked_while_the_server_runs(tmp_path: Path, monkeypatch: Any) -> None:
    _check_often(monkeypatch)
    ctl, staging = data_controller(tmp_path, {"cache_bytes": "4M"})
    cache = staging.stager.caches[ctl.table.names[1]]
    try:
        shutil.rmtree(cache.root)
        deadline = time.monotonic() + 5
        while not (cache.root / CACHE_LOCK).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        assert _locked(cache.root / CACHE_LOCK)  # a second server is refused it again
    finally:
        staging.shutdown()

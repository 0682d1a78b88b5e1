"""A restart with an older catalog file put back (a backup restored): a cached copy of a dataset it holds but lists
no replica for at that node is kept, checked against the dataset's checksum before its first use, and that node's
replica again when it matches (QA: it was deleted, said only as 'dropped': 1 at INFO); a copy of another size than
the dataset is deleted with a warning naming it; and a kept copy that is not the dataset now registered under its
name is said to be that, not to have changed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.unit.controller.test_parked import controller
from tests.unit.data.test_data_fit import with_data


def _warned(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def _cache(ctl: Any, tmp: Path, name: str, source: str, data: bytes | None = None, backup: bool = False) -> Path:
    """``name`` registered from ``tmp/source`` (a backup of the catalog taken then), and cached on the first node."""
    stager, node = ctl.staging.stager, ctl.table.names[0]
    if data is not None:
        (tmp / source).write_bytes(data)
    with ctl.lock:
        if name in stager.catalog.datasets:  # `hal dataset rm NAME` first: its cached copies go with it
            stager.catalog.forget(name)
            for cache in stager.caches.values():
                cache.drop(name)
        stager.catalog.register_file(name, str(tmp / source))
    if backup:
        shutil.copy(tmp / "cat.json", tmp / "backup.json")
    stager.stage_in(999, [name], [node])
    stager.release(999)
    return stager.caches[node].path_of(name)


def test_a_restored_catalog_keeps_a_copy_it_lists_no_replica_for_and_checks_it_before_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml = with_data(tmp_path, "4M")
    with controller(tmp_path, toml) as ctl:
        node = ctl.table.names[0]
        copy = _cache(ctl, tmp_path, "A", "A.bin", b"a" * 200_000, backup=True)  # backed up before its staging
    shutil.copy(tmp_path / "backup.json", tmp_path / "cat.json")
    caplog.set_level(logging.INFO, "hal")
    with controller(tmp_path, toml) as ctl:
        stager = ctl.staging.stager
        cache = stager.caches[node]
        assert copy.read_bytes() == b"a" * 200_000 and cache.entries.get("A") == 200_000  # kept (it was deleted)
        assert "A" in cache.unverified and node not in stager.catalog.replicas.get("A", {})
        said = _warned(caplog, "lists no replica")
        assert said and f"the cached copies A on {node}" in said[0], caplog.text
        assert stager.stage_in(5, ["A"], [node])[0].hit  # checksummed, then read in place: no copy made
        stager.release(5)
        assert node in stager.catalog.replicas["A"] and "A" not in cache.unverified  # its replica again


def test_a_kept_copy_of_another_size_is_deleted_naming_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    toml = with_data(tmp_path, "4M")
    with controller(tmp_path, toml) as ctl:
        node = ctl.table.names[0]
        _cache(ctl, tmp_path, "A", "old.bin", b"o" * 1000, backup=True)
        copy = _cache(ctl, tmp_path, "A", "new.bin", b"n" * 3000)  # removed and registered again, larger
    shutil.copy(tmp_path / "backup.json", tmp_path / "cat.json")
    caplog.set_level(logging.INFO, "hal")
    with controller(tmp_path, toml) as ctl:
        assert not copy.exists() and "A" not in ctl.staging.stager.caches[node].entries
        said = _warned(caplog, "deleted")
        assert said and f"A on {node} (3,000 bytes where the dataset has 1,000: not the dataset now" in said[0]


def test_a_kept_copy_of_another_dataset_is_not_said_to_have_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: a copy kept unmatched (its name not in the restored catalog), the name then registered with other
    contents, was said to have 'changed while no server ran'."""
    toml = with_data(tmp_path, "4M")
    with controller(tmp_path, toml) as ctl:
        node = ctl.table.names[0]
        _cache(ctl, tmp_path, "base", "base.bin", b"b" * 100, backup=True)
        _cache(ctl, tmp_path, "dy", "dy1.bin", b"1" * 1000)
    shutil.copy(tmp_path / "backup.json", tmp_path / "cat.json")  # no 'dy' in it
    caplog.set_level(logging.INFO, "hal")
    with controller(tmp_path, toml) as ctl:
        stager = ctl.staging.stager
        assert "dy" in stager.caches[node].unverified
        (tmp_path / "dy2.bin").write_bytes(b"2" * 1000)  # the same size, other contents
        with ctl.lock:
            stager.catalog.register_file("dy", str(tmp_path / "dy2.bin"))
        assert not stager.stage_in(6, ["dy"], [node])[0].hit  # checked, dropped, staged again
        stager.release(6)
        assert stager.caches[node].path_of("dy").read_bytes() == b"2" * 1000
    said = _warned(caplog, "the cached copy of 'dy'")
    assert said == [f"the cached copy of 'dy' on {node} is not the dataset now registered under that name; dropped, "
                    "staged again"], caplog.text  # fmt: skip

"""QA: `hal server` started 4 node caches of cache_bytes = "3G" on a 300 MB tmpfs without a word; the first large
stage-in then failed with ENOSPC. The start now warns, one line per filesystem holding caches."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_data_live import data_controller


def _small_disk(monkeypatch: pytest.MonkeyPatch, under: Path, total: int) -> None:
    real = shutil.disk_usage

    def usage(path: Any) -> Any:
        got = real(path)
        return type(got)(total, 0, total) if str(path).startswith(str(under)) else got

    monkeypatch.setattr(shutil, "disk_usage", usage)


def test_caches_larger_than_their_filesystem_are_warned_of_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _small_disk(monkeypatch, tmp_path / "cache", 300 * 2**20)
    with caplog.at_level(logging.WARNING, logger="hal.data"):
        _, staging = data_controller(tmp_path, {"cache_bytes": "3G", "catalog": str(tmp_path / "cat.json")})
    staging.shutdown()
    said = [r.getMessage() for r in caplog.records if "cache_bytes" in r.getMessage()]
    assert len(said) == 1, said  # the two node caches share one filesystem: one line
    line = said[0]
    assert "3.0 GiB for 2 node cache(s) (vn000, vn001)" in line and "6.0 GiB together" in line, line
    assert "300.0 MiB free of 300.0 MiB" in line and "No space left on device" in line, line


def test_caches_that_fit_their_filesystem_are_not_warned_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _small_disk(monkeypatch, tmp_path / "cache", 300 * 2**20)
    with caplog.at_level(logging.WARNING, logger="hal.data"):
        _, staging = data_controller(tmp_path, {"cache_bytes": "100M", "catalog": str(tmp_path / "cat.json")})
    staging.shutdown()
    assert not [r for r in caplog.records if "cache_bytes" in r.getMessage()]

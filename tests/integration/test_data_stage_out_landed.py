"""A restart's catch-up finding its output already at the destination: the bytes there are compared (sizes first,
then read with progress ticks), so a large copy that had landed is neither a stall nor read when its size differs
(QA: hashing it took no tick for longer than stall_timeout, and the output failed at every start)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem

import hal.data.catalog
import hal.data.destination
import hal.data.stager
from hal.data.stager import StageError
from tests.integration.test_data_stage_out import _controller

BODY = b"y" * 40_000


class SlowFS(LocalFileSystem):  # type: ignore[misc]
    """Local files read slowly (a large file on a busy store, in life); writes as fast as usual."""

    protocol = "halslowread"
    reads: ClassVar[int] = 0

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halslowread://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if "r" not in mode:
            return super()._open(path, mode, *args, **kwargs)
        return _SlowFile(self._strip_protocol(path), mode, fs=self)


class _SlowFile(LocalFileOpener):  # type: ignore[misc]
    def read(self, *args: Any) -> bytes:
        SlowFS.reads += 1
        time.sleep(0.05)
        return bytes(super().read(*args))


fsspec.register_implementation("halslowread", SlowFS, clobber=True)


@pytest.fixture
def landed(tmp_path: Path, monkeypatch: Any) -> Any:
    for module in (hal.data.stager, hal.data.catalog, hal.data.destination):
        monkeypatch.setattr(module, "CHUNK", 1000, raising=False)  # 40 reads of 0.05 s: 2 s, over stall_timeout
    ctl, staging = _controller(tmp_path)
    staging.stager.stall_timeout = 0.6
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "big").write_bytes(BODY)
    dest = tmp_path / "out" / "7" / "big"
    dest.parent.mkdir(parents=True)
    SlowFS.reads = 0
    yield staging.stager, node, dest, f"halslowread://{dest}"
    staging.shutdown()


def test_an_output_that_had_landed_is_read_with_ticks(landed: Any) -> None:
    stager, node, dest, uri = landed
    dest.write_bytes(BODY)  # the same bytes: a restart's catch-up of a copy that had landed
    digest, size = stager.copy_out(7, "big", node, uri)
    assert size == len(BODY) and digest.startswith("sha256:") and dest.read_bytes() == BODY


def test_a_file_of_another_size_there_is_refused_unread(landed: Any) -> None:
    stager, node, dest, uri = landed
    dest.write_bytes(b"z" * 100)
    with pytest.raises(StageError, match="already holds data no dataset names"):
        stager.copy_out(7, "big", node, uri)
    assert SlowFS.reads == 0 and dest.read_bytes() == b"z" * 100

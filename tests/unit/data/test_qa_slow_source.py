"""``stall_timeout`` counts bytes, as the README says ("no byte for N s"), not 4 MiB chunks: a source or destination
that sends slowly but steadily (a throttled FTP server here) is never declared stalled (QA MEDIUM-1: a 3 MB file at
100 KB/s failed every attempt with stall_timeout = 10), and a read given up on for a stall stops marking its
source stuck once it has moved again, so later attempts read it."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.ftp import FTPFileSystem

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog
from hal.data.stager import RetryPolicy, Stager
from hal.data.watch import watched_copy
from tests.ftp_server import DTPHandler, ftp_server

pytestmark = pytest.mark.filterwarnings("ignore:write permissions assigned to anonymous user:RuntimeWarning")

RATE = 200_000  # bytes/s the server sends and takes, 16 KiB at a time: steady, never 4 MiB within STALL
SIZE = 400_000  # 2 s at RATE: longer than STALL, so the file's bytes cannot come in one call
STALL = 1.5
PIECE = 16 << 10


class _Throttled(DTPHandler):
    """Data connections that send and take at most RATE bytes/s, in PIECEs (the whole server sleeps: all its
    connections share the one link)."""

    ac_in_buffer_size = ac_out_buffer_size = PIECE

    def send(self, data: bytes) -> int:
        sent = int(super().send(data[:PIECE]))
        time.sleep(sent / RATE)
        return sent

    def recv(self, buffer_size: int) -> bytes:
        got = bytes(super().recv(min(buffer_size, PIECE)))
        time.sleep(len(got) / RATE)
        return got


@pytest.fixture
def slow_ftp(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real FTP server on 127.0.0.1 sending and taking RATE bytes/s: its URL and folder."""
    root = tmp_path / "ftp"
    root.mkdir()
    try:
        with ftp_server(root, poll=0.05, dtp_handler=_Throttled, use_sendfile=False) as url:
            yield url, root
    finally:
        FTPFileSystem.clear_instance_cache()


def test_a_slow_but_live_source_is_read_to_the_end(tmp_path: Path, slow_ftp: tuple[str, Path]) -> None:
    url, root = slow_ftp
    data = bytes(range(256)) * (SIZE // 256)
    (root / "f6.bin").write_bytes(data)
    digest, size = watched_copy(f"{url}/f6.bin", tmp_path / "f6.partial", STALL, lambda: None)
    assert size == len(data) and digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (tmp_path / "f6.partial").read_bytes() == data


def test_a_slow_but_live_destination_takes_the_output(tmp_path: Path, slow_ftp: tuple[str, Path]) -> None:
    url, root = slow_ftp
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=10_000_000)}
    stager = Stager(Catalog(tmp_path / "cat.json"), caches, RetryPolicy(attempts=1, backoff=0.0))
    stager.stall_timeout = STALL
    data = b"checkpoint" * (SIZE // 10)
    (stager.open_job_dir(2, "n0", ()) / "o3").write_bytes(data)
    digest, size = stager.copy_out(2, "o3", "n0", f"{url}/2/o3")
    assert size == len(data) and digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (root / "2" / "o3").read_bytes() == data


class _StallsOnce(io.RawIOBase):
    """A source that sends nothing for ``pause`` s, then its bytes (a link that came back)."""

    def __init__(self, pause: float, data: bytes) -> None:
        self.pause, self.data = pause, io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        time.sleep(self.pause)
        self.pause = 0.0
        return self.data.readinto(buf)


def test_a_read_given_up_on_that_moved_again_does_not_fail_later_attempts(tmp_path: Path) -> None:
    uri = f"halslow://{tmp_path}/src"
    with pytest.raises(OSError, match=r"no data for 0\.3 s"):
        watched_copy(uri, tmp_path / "a.partial", 0.3, lambda: None, opener=lambda: _StallsOnce(0.8, b"x" * 500_000))
    time.sleep(0.8)  # the abandoned read returned with bytes: the source is alive again
    got = watched_copy(uri, tmp_path / "b.partial", 0.3, lambda: None, opener=lambda: io.BytesIO(b"data"))
    assert got[1] == 4 and not (tmp_path / "a.partial").exists()

"""A watched read given up on for a cancel or a stopping server says nothing about its source: only a stall
keeps later reads of that source away (QA: one job's cancel failed every other reader of a healthy source,
"an earlier read of this source has sent nothing for over 300 s")."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from hal.data.stager import StageCancelled
from hal.data.watch import watched_copy


class _Blocked(io.RawIOBase):
    """A source whose read waits on an event (a slow or hung source)."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        self.gate.wait(10)
        return 0


def test_a_cancelled_read_still_blocked_does_not_fail_later_reads(tmp_path: Path) -> None:
    gate, uri = threading.Event(), f"halblocked://{tmp_path}/src"
    cancel = threading.Event()

    def stop() -> None:
        if cancel.is_set():
            raise StageCancelled("job 1 was cancelled while its inputs were staged")

    threading.Timer(0.3, cancel.set).start()
    try:
        with pytest.raises(StageCancelled):
            watched_copy(uri, tmp_path / "a.partial", 600.0, stop, opener=lambda: _Blocked(gate))
        # the first reader is still blocked; another job's read gets its own chance...
        got = watched_copy(uri, tmp_path / "b.partial", 600.0, lambda: None, opener=lambda: io.BytesIO(b"data"))
        assert got[1] == 4 and (tmp_path / "b.partial").read_bytes() == b"data"
        # ...and its own stall timer: a stall, not the cancel, is what keeps later reads away
        t0 = time.monotonic()
        with pytest.raises(OSError, match=r"no data for 0\.3 s"):
            watched_copy(uri, tmp_path / "c.partial", 0.3, lambda: None, opener=lambda: _Blocked(gate))
        assert time.monotonic() - t0 < 5
        with pytest.raises(OSError, match="an earlier read of this source"):
            watched_copy(uri, tmp_path / "d.partial", 0.3, lambda: None, opener=lambda: io.BytesIO(b"data"))
    finally:
        gate.set()
    deadline = time.monotonic() + 5  # the stalled reader returned: the source may be read again
    while time.monotonic() < deadline:
        try:
            watched_copy(uri, tmp_path / "e.partial", 5.0, lambda: None, opener=lambda: io.BytesIO(b"data"))
            break
        except OSError:
            time.sleep(0.05)
    assert (tmp_path / "e.partial").read_bytes() == b"data"


def test_a_source_whose_stalled_read_never_returns_is_read_again_after_a_while(tmp_path: Path) -> None:
    """QA: a read that never returns (a path swapped for a FIFO, a dead hard mount) kept its source unusable until
    the server restarted, and nothing said so. It is quarantined, said until when, then one fresh read is tried:
    healthy storage is read again; storage still hung quarantines it again, for twice as long."""
    gate, uri = threading.Event(), f"halblocked://{tmp_path}/never"
    healthy = lambda: io.BytesIO(b"data")  # noqa: E731
    try:
        with pytest.raises(OSError, match=r"no data for 0\.2 s"):
            watched_copy(uri, tmp_path / "a.partial", 0.2, lambda: None, opener=lambda: _Blocked(gate))
        quarantined = r"quarantined until that read returns or the server restarts; a fresh read is tried in \d+ s"
        with pytest.raises(OSError, match=quarantined):  # at once: no second thread stuck beside the first
            watched_copy(uri, tmp_path / "b.partial", 0.2, lambda: None, opener=healthy)
        time.sleep(0.9)  # 4 x stall_timeout: one fresh read is tried, the first still stuck
        assert watched_copy(uri, tmp_path / "c.partial", 0.2, lambda: None, opener=healthy)[1] == 4
        assert watched_copy(uri, tmp_path / "d.partial", 0.2, lambda: None, opener=healthy)[1] == 4  # healthy again
        with pytest.raises(OSError, match=r"no data for 0\.2 s"):  # hung again: a second read stuck
            watched_copy(uri, tmp_path / "e.partial", 0.2, lambda: None, opener=lambda: _Blocked(gate))
        time.sleep(0.9)  # two reads stuck: quarantined twice as long
        with pytest.raises(OSError, match=quarantined):
            watched_copy(uri, tmp_path / "f.partial", 0.2, lambda: None, opener=healthy)
        time.sleep(0.9)
        assert watched_copy(uri, tmp_path / "g.partial", 0.2, lambda: None, opener=healthy)[1] == 4
    finally:
        gate.set()

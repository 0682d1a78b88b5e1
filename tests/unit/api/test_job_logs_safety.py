"""GET /v1/jobs/ID/logs reads as the server's user, so it serves only what the job wrote (security QA): a FIFO named
as -o froze every API thread, a file last changed before the job started (the server's token, with a launch that
failed) was served, and /dev/zero or a huge log took the server's memory."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hal.api.job_logs import MAX_LOG, LogRefused, read_log


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    said: list[str] = []

    def read() -> None:
        try:
            read_log(str(fifo), 0, time.time())
        except LogRefused as exc:
            said.append(str(exc))

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5.0)
    assert not t.is_alive(), "reading a FIFO blocked"
    assert said and "not a regular file" in said[0]


def test_a_device_is_refused() -> None:
    with pytest.raises(LogRefused, match="not a regular file"):
        read_log("/dev/zero", 100, time.time())


def test_a_file_not_written_since_the_job_started_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("hal_secret\n")
    old = time.time() - 3600
    os.utime(secret, (old, old))
    with pytest.raises(LogRefused, match="not been written since the job started"):
        read_log(str(secret), 0, time.time())
    assert read_log(str(secret), 0, old) == "hal_secret\n"  # written by then: served


def test_a_log_larger_than_one_answer_asks_for_a_tail(tmp_path: Path) -> None:
    big = tmp_path / "big.out"
    with big.open("wb") as fh:
        fh.truncate(MAX_LOG + 1)  # sparse: no disk used
    with pytest.raises(LogRefused, match=r"\?tail=N"):
        read_log(str(big), 0, 0.0)
    assert len(read_log(str(big), 1000, 0.0)) == 1000

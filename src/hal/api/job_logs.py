"""GET /v1/jobs/ID/logs: a job's output file, or its end.

The server reads the file as its own user, so it serves only what the job itself wrote (QA): a regular file
modified since the job started (an -o naming the server's token, with a launch that failed before the job ran,
served the token), opened without blocking (a FIFO as -o froze every API thread) and read up to a bound (a
multi-GB log, or -o /dev/zero, took the server's memory)."""

from __future__ import annotations

import os
import stat

MAX_LOG = 64 << 20  # bytes one answer carries; a longer log is read with ?tail=N
MAX_TAIL = MAX_LOG  # GET /v1/jobs/ID/logs?tail=N
SLACK_S = 2.0  # a file written in the second the job started (mtime granularity, clocks read apart)


class LogRefused(ValueError):
    """The file is not one this job wrote, or too big for one answer: the reason is the API's 409 text."""


def read_log(path: str, tail: int = 0, started: float | None = None) -> str:
    """A job's output file as text (undecodable bytes replaced); ``tail``: only its last bytes, read from the end.
    A file not written yet: empty. ``started``: the job's start; a file last changed before it is not the job's."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise LogRefused(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LogRefused(f"{path} is not a regular file; HAL serves only output files the job wrote")
        if started is not None and info.st_mtime < started - SLACK_S:
            raise LogRefused(f"{path} has not been written since the job started; HAL serves only what the job wrote")
        size = info.st_size
        if not tail and size > MAX_LOG:
            raise LogRefused(f"{path} holds {size:,} bytes, more than one answer carries; ask ?tail=N (N <= {MAX_LOG})")
        if tail:
            fh.seek(max(0, size - tail))
        data = fh.read(min(tail or MAX_LOG, MAX_LOG))
    return data.decode("utf-8", "replace")

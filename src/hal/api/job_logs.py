"""GET /v1/jobs/ID/logs: a job's output file, or its end."""

from __future__ import annotations

import os

MAX_TAIL = 1 << 40  # bytes: GET /v1/jobs/ID/logs?tail=N


def read_log(path: str, tail: int = 0) -> str:
    """A job's output file as text (undecodable bytes replaced); ``tail``: only its last bytes, read from the end
    rather than the whole file read into memory. A file not written yet: empty."""
    try:
        with open(path, "rb") as fh:
            if tail:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - tail))
            data = fh.read()
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace")

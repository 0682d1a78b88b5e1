"""Which of the server's files only their owner may read, and how they are written so: the database holds every
user's job scripts and submission environments, so the state in HAL_HOME is 0600 whatever the umask. The process
umask itself is left alone: jobs' own output files keep the umask they were submitted with."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import IO, Any

PRIVATE = 0o600
# What the server keeps in HAL_HOME (the token is written 0600 by hal/controller/auth.py, spool/ is 0700).
STATE_FILES = (
    "hal.db",
    "hal.db-wal",
    "hal.db-shm",
    "start-forecasts.json",
    "runtime-model.zip",
    "runtime-model-gbm-regress.zip",
    "server.json",
    "server.lock",
    "htc-apps.json",
    "htc-journal.db",
    "htc-journal.db-wal",
    "htc-journal.db-shm",
    "job-token.key",
    "token",
)


def create_private(path: Path) -> None:
    """``path`` exists and is 0600: created empty if missing (never truncated), else tightened. SQLite then opens
    it as its database and gives the -wal and -shm files it creates the same mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)


def open_private(path: Path, mode: str = "a+") -> IO[Any]:
    """``path`` opened as text in ``mode`` (a+, w), created and kept 0600 (the server's lock and address files)."""
    flags = os.O_RDWR | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE)
    os.fchmod(fd, PRIVATE)  # a file left by an older server kept its mode
    return os.fdopen(fd, mode, encoding="utf-8")


def write_private(path: Path, data: bytes | str) -> None:
    """Replace ``path`` atomically by ``data``: the temporary file is 0600 from its creation, so no reader ever
    sees the content with looser permissions, and a crash leaves the old file or the new one."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # a stale temporary file of another mode is reused by O_CREAT
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def tighten(home: Path) -> list[str]:
    """Make the state files an older server left readable to others 0600; returns the names changed."""
    changed = []
    for name in STATE_FILES:
        path = home / name
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mode & 0o077:
                path.chmod(PRIVATE)
                changed.append(name)
    return changed

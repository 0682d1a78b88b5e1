"""Opening a job's standard output and error files as sbatch does, in the job's supervisor."""

from __future__ import annotations

import os


class LaunchError(Exception):
    """The job could not be started; the message goes into the record's reason."""


def open_output(path: str, append: bool = False) -> int:
    """Truncating, as Slurm's default open mode (or appending, --open-mode=append); a FIFO without a reader
    fails at once instead of blocking us."""
    mode = os.O_APPEND if append else os.O_TRUNC
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    except OSError as e:
        raise LaunchError(f"cannot open output file {path}: {e.strerror}") from e
    os.set_blocking(fd, True)  # the job gets an ordinary descriptor
    return fd

"""Opening a job's standard output, error and input files as sbatch does, in the job's supervisor, under the
submitter's umask."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Mapping


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


def open_input(path: str) -> int:
    """The batch script's --input file, read-only; a FIFO without a writer does not block us, and a directory,
    which opens but cannot be read, is refused at launch as a missing file is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        raise LaunchError(f"cannot open the job's --input file {path}: {e.strerror}") from e
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise LaunchError(f"cannot open the job's --input file {path}: {os.strerror(errno.EISDIR)}")
    os.set_blocking(fd, True)
    return fd


def job_umask(env: Mapping[str, str]) -> int | None:
    """The submitter's umask as sbatch sends it (SLURM_UMASK=0027); None, keeping ours, when absent or malformed."""
    text = env.get("SLURM_UMASK", "")
    if not 1 <= len(text) <= 4 or any(c not in "01234567" for c in text) or int(text, 8) > 0o777:
        return None
    return int(text, 8)


@contextlib.contextmanager
def umask(mask: int | None) -> Iterator[None]:
    """Our umask set to ``mask`` meanwhile: the files we create and the job we fork get it; ours comes back after
    (the spool's files keep the server's)."""
    if mask is None:
        yield
        return
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)

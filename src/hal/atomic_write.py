"""How a command's output file is written: into a temporary file beside it, renamed over it only once complete, so
a failed write (a full disk, a file size limit) leaves the old file or none, never a truncated one that looks whole;
the failure is one line naming the file (QA: an OSError traceback and a cut-off CSV)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class OutputError(OSError):
    """An output that could not be written, said in one line: ``cannot write PATH: reason``."""


def _mode(path: Path, shown: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a folder that cannot be searched
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None


def _create(tmp: Path, shown: Path, mode: int | None) -> int | None:
    """The temporary file's descriptor; None when its folder refuses new files. A new file gets the umask's mode,
    as open() gives it; a replaced one keeps its own."""
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else stat.S_IMODE(mode))
    except PermissionError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


@contextlib.contextmanager
def output_file(path: str | Path, binary: bool = False, newline: str | None = None) -> Iterator[IO[Any]]:
    """``path`` opened for writing from scratch (text is UTF-8). A symlink is written through: the file it names is
    replaced and the link kept, as most tools write through one. A device or a FIFO (/dev/stdout, a named pipe a
    reader waits on) is written as it is: there is nothing to rename over. A folder that refuses a new file while
    the file itself is writable gets the file written in place. Any write error is an OutputError; the temporary
    file goes with it."""
    shown = Path(path)
    target = Path(os.path.realpath(shown))
    mode = _mode(target, shown)
    if mode is not None and not stat.S_ISREG(mode):
        with _said(shown), _file(shown, binary, newline) as fh:
            yield fh
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = _create(tmp, shown, mode)
    if fd is None:  # the folder is read-only, the file not (writable_files let it through): written in place
        with _said(shown), _file(shown, binary, newline) as fh:
            yield fh
        return
    try:
        if mode is not None:
            os.fchmod(fd, stat.S_IMODE(mode))  # the umask narrowed os.open's mode
        with _file(fd, binary, newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())  # complete on disk before the name points at it
        os.replace(tmp, target)
    except OutputError:
        _unlink(tmp)
        raise
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _file(where: int | Path, binary: bool, newline: str | None) -> IO[Any]:
    """A descriptor or a path opened for writing: bytes, or UTF-8 text."""
    mode: str = "wb" if binary else "w"
    return open(where, mode, encoding=None if binary else "utf-8", newline=newline)


@contextlib.contextmanager
def _said(path: Path) -> Iterator[None]:
    """An OSError while writing ``path`` in place, as an OutputError naming it."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # a reader that left (| head): its own business, not a failed write
            raise
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_text(path: str | Path, text: str) -> None:
    """``text`` written whole to ``path``, or an OutputError and the old file (or none) left as it was."""
    with output_file(path) as fh:
        fh.write(text)

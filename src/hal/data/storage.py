"""Storage backends' own errors as failed transfers. fsspec backends raise what their protocol library raises:
ftplib's ``error_perm``/``error_temp``, ``EOFError`` when an FTP server drops the connection, an
``AttributeError`` from a closed connection, a cloud SDK's own classes; none of them is an ``OSError``, which
is what the copy retries catch. QA: an FTP server killed mid-copy failed the stage-out at once ("internal error:
EOFError") without using ``attempts``, and a stage-in the same way, its partial file left at the destination.

The file system and the files it opens are wrapped (``StorageFS``, ``StorageFile``): an error out of one of their
calls that is not an ``OSError`` is raised as ``StorageError`` (an ``OSError``) from it, so it is retried and said
like any failed copy, while an error of HAL's own code between those calls (a ``TypeError``, a refusal) stays what
it is. The backend's file system instance is dropped from fsspec's instance cache with it: the next attempt
connects again instead of reusing a dead connection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("hal.data")
T = TypeVar("T")
_SUSPECT = (TypeError, NameError, AssertionError)  # more often a caller's mistake: logged with the traceback


class StorageError(OSError):
    """A storage backend failed a call with an error of its own (the original is its ``__cause__``)."""


def _said(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"storage failed: {type(exc).__name__}" + (f": {text}" if text else "")


def call(fn: Callable[..., T], *args: Any, fs: Any = None, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, a backend's error that is not an ``OSError`` raised as ``StorageError``; ``fs``:
    the file system to drop from fsspec's instance cache when that happens."""
    try:
        return fn(*args, **kwargs)
    except OSError:
        raise
    except Exception as exc:
        if isinstance(exc, _SUSPECT):
            log.warning("%s: treated as a failed transfer", _said(exc), exc_info=True)
        _forget(fs)
        raise StorageError(_said(exc)) from exc


def _forget(fs: Any) -> None:
    cache, token = getattr(type(fs), "_cache", None), getattr(fs, "_fs_token_", None)
    if isinstance(cache, dict) and token is not None:
        cache.pop(token, None)


class StorageFile:
    """A file a backend opened (or its ``OpenFile``), each call's backend errors raised as ``StorageError``."""

    def __init__(self, inner: Any, fs: Any = None) -> None:
        self._inner, self._fs = inner, fs

    def __enter__(self) -> StorageFile:
        entered = call(self._inner.__enter__, fs=self._fs)
        return self if entered is self._inner else StorageFile(entered, self._fs)

    def __exit__(self, *exc: Any) -> Any:
        return call(self._inner.__exit__, *exc, fs=self._fs)

    def read(self, *args: Any) -> Any:
        return call(self._inner.read, *args, fs=self._fs)

    def write(self, data: Any) -> Any:
        return call(self._inner.write, data, fs=self._fs)

    def close(self) -> None:
        call(self._inner.close, fs=self._fs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class StorageFS:
    """A fsspec file system whose calls raise a backend's own errors as ``StorageError`` (``open`` gives a
    ``StorageFile``); its attributes read through. ``fs``: the file system itself (``isinstance`` checks)."""

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.fs, name)
        if not callable(attr):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            got = call(attr, *args, fs=self.fs, **kwargs)
            return StorageFile(got, self.fs) if name == "open" else got

        return guarded


def unwrapped(fs: Any) -> Any:
    """The file system a ``StorageFS`` wraps (any other: itself)."""
    return fs.fs if isinstance(fs, StorageFS) else fs


def storage_fs(uri: str) -> tuple[StorageFS, str]:
    """``fsspec.core.url_to_fs(uri)`` (which may connect, as FTP's does) with its file system wrapped."""
    import fsspec

    fs, path = call(fsspec.core.url_to_fs, uri)
    return StorageFS(fs), path


def storage_open(opener: Callable[[], Any] | None, uri: str) -> StorageFile:
    """``opener()`` or ``fsspec.open(uri, "rb")``, the result wrapped: what a stage-in reads its source with."""
    import fsspec

    return StorageFile(call(opener if opener is not None else lambda: fsspec.open(uri, "rb")))

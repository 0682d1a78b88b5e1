"""A copy from storage watched from another thread: a cancel, a stopping server or a stalled source ends it
at once, even when the read is stuck in the kernel."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hal.data.cache import local_write
from hal.data.catalog import CHUNK
from hal.data.storage import storage_open

WATCH_EVERY = 0.1  # s between looks at a running copy (cancel, server stop, stall)
STEP = 64 << 10  # bytes of the smallest read or write: each one that returns restarts the stall clock
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "az", "adl"}  # their writes go in parts of 5 MiB or more
# Sources with a read that stalled (nothing for stall_timeout s) and is still blocked (a hung mount): not read again
# meanwhile. Only a stall counts: a read abandoned for a cancel or a stopping server says nothing about the source
# (QA: one job's cancel failed every other reader of a healthy source, "sent nothing for over 300 s").
_STUCK: Counter[str] = Counter()
_STUCK_LOCK = threading.Lock()
# uri -> when its quarantine began (its last stall, or the last fresh read tried): a read that never returns (a path
# swapped for a FIFO, a dead hard mount) kept the source unusable until a restart (QA). A fresh read on a new thread
# is tried REPROBE x stall_timeout s on, doubling with each read still stuck (so at most a few threads ever hang
# beside it); one that succeeds ends the quarantine, the stuck reads left to return (or not) on their own.
_SINCE: dict[str, float] = {}
REPROBE = 4
T = TypeVar("T")


class Pace:
    """How many bytes to read or write at a time: a transfer's stall clock starts again only when a call returns,
    so each must take well under ``stall_timeout`` (QA: 4 MiB reads at 100 KB/s took 40 s, and a slow but live link
    was declared stalled). From ``STEP``, doubled while calls are quick (fewer round trips on a fast link), halved
    when one takes over a quarter of the timeout, never above ``most``."""

    def __init__(self, stall_timeout: float, most: int) -> None:
        self.stall, self.most, self.size = stall_timeout, max(most, 1), min(STEP, max(most, 1))

    def took(self, seconds: float, moved: int) -> None:
        if seconds > self.stall / 4:
            self.size = max(min(STEP, self.most), self.size // 2)
        elif seconds < self.stall / 16 and moved >= self.size:
            self.size = min(self.most, self.size * 2)


def small_blocks(fs: Any) -> dict[str, int]:
    """``fs.open``'s keywords for a file whose buffer is sent or fetched ``STEP`` bytes at a time (the stall clock
    sees each call); fsspec's default of 5 MiB took one call per 5 MiB. Object stores keep their own part size."""
    protocol = getattr(fs, "protocol", "")
    names = {protocol} if isinstance(protocol, str) else set(protocol)
    return {} if names & OBJECT_STORES else {"block_size": STEP}


def _open_source(uri: str) -> Any:
    import fsspec

    return fsspec.open(uri, "rb", block_size=STEP)


def watched_copy(
    uri: str,
    tmp: Path,
    stall_timeout: float,
    check_stop: Callable[[], None],
    chunk_size: int = CHUNK,
    opener: Callable[[], Any] | None = None,
) -> tuple[str, int]:
    """Copy ``uri`` to ``tmp`` on a daemon thread while this one watches: a cancel or a stopping server
    returns at once and storage that sends nothing for ``stall_timeout`` s fails the attempt, even when
    the read is stuck in the kernel (a hung mount never returns; waiting on it held the job's nodes and
    cache room for good and kept the server from stopping). Read a ``Pace`` at a time, so a slow but live source
    is never taken for a stalled one. The checksum and the size copied. ``opener``: how to open the source when
    ``uri`` only names it (a file of a folder dataset, on its folder's file system)."""
    box: dict[str, Any] = {"last": time.monotonic(), "abandoned": False, "stalled": False}
    done = threading.Event()
    _quarantine(uri, stall_timeout)

    def copy() -> None:
        digest, size = hashlib.sha256(), 0
        try:
            pace = Pace(stall_timeout, chunk_size)
            with storage_open(opener or functools.partial(_open_source, uri), uri) as src:  # a backend's own
                if box["abandoned"]:  # errors (EOFError): failed copies, retried
                    return
                dst = local_write(tmp, tmp.open, "wb")  # the cache's own failures: CacheWriteError
                try:
                    while chunk := _timed(src.read, pace):
                        box["last"] = time.monotonic()  # bytes came: the source is alive, however slowly
                        if box["abandoned"]:  # given up on: the finally clears its stuck mark now
                            return
                        check_stop()  # between chunks too: a fast copy may beat the watcher
                        digest.update(chunk)
                        local_write(tmp, dst.write, chunk)
                        size += len(chunk)
                        box["last"] = time.monotonic()
                    local_write(tmp, dst.close)  # its last bytes are written here: a full disk may say so now
                finally:
                    with contextlib.suppress(OSError):  # after a failed write: that error is the one to tell
                        dst.close()
            box["result"] = (f"sha256:{digest.hexdigest()}", size)
            with _STUCK_LOCK:  # the source answers again: its quarantine ends (reads still stuck are not waited on)
                _SINCE.pop(uri, None)
        except BaseException as exc:  # handed to the watching thread
            box["error"] = exc
        finally:
            with _STUCK_LOCK:  # with the watcher's marking: a read is stuck only while it has not returned
                abandoned = box["abandoned"]
                if box["stalled"]:
                    _STUCK[uri] -= 1
                    if _STUCK[uri] <= 0:
                        del _STUCK[uri]
                        _SINCE.pop(uri, None)
                done.set()
            if abandoned:
                tmp.unlink(missing_ok=True)

    threading.Thread(target=copy, name="hal-copy", daemon=True).start()
    while not done.wait(WATCH_EVERY):
        stalled = False
        try:
            check_stop()  # a cancelled job's copy stops now, not at its end
            if stalled := time.monotonic() - box["last"] > stall_timeout:
                raise OSError(f"no data for {stall_timeout:g} s (stall_timeout): storage not answering")
        except BaseException:
            with _STUCK_LOCK:
                box["abandoned"] = True
                if stalled and not done.is_set():  # its own stall: a later read waits until this one returns
                    box["stalled"] = True
                    _STUCK[uri] += 1
                    _SINCE[uri] = time.monotonic()
            raise
    if "error" in box:
        raise box["error"]
    result: tuple[str, int] = box["result"]
    return result


def _quarantine(uri: str, stall_timeout: float) -> None:
    """Raise while an earlier read of ``uri`` stalled and has not returned (another would only add a thread stuck
    beside it), saying until when; past the quarantine's length one fresh read is let through (the caller's), and
    the next is quarantined again from now."""
    with _STUCK_LOCK:
        if _STUCK[uri] <= 0 or uri not in _SINCE:
            return
        length = REPROBE * stall_timeout * 2 ** min(_STUCK[uri] - 1, 10)
        waited = time.monotonic() - _SINCE[uri]
        if waited >= length:
            _SINCE[uri] = time.monotonic()  # this read is the probe: any other waits a while longer
            return
    raise OSError(
        f"an earlier read of this source has sent nothing for over {stall_timeout:g} s and has not returned: the "
        "source is quarantined until that read returns or the server restarts; a fresh read is tried in "
        f"{length - waited:.0f} s"
    )


def _timed(read: Callable[[int], bytes], pace: Pace) -> bytes:
    """``read(pace.size)``, its time telling ``pace`` the next size."""
    start = time.monotonic()
    got = read(pace.size)
    pace.took(time.monotonic() - start, len(got))
    return got


class Abandoned(Exception):
    """Raised in a watched worker that its watcher gave up on: it stops at its next step, publishing nothing."""


class Progress:
    """What a watched worker reports: each ``tick`` is progress (the stall timer starts again) and a step at which
    a worker given up on stops (``Abandoned``)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.abandoned = False

    def tick(self) -> None:
        if self.abandoned:
            raise Abandoned("given up on by its watcher")
        self.last = time.monotonic()


def watched(
    work: Callable[[Progress], T],
    stall_timeout: float,
    check_stop: Callable[[], None],
    stall: Callable[[], Exception],
    linger: float = 0.0,
) -> T:
    """``work`` run on a daemon thread while this one watches, as ``watched_copy`` does for a read: a stopping
    server (``check_stop`` raises) returns at once and no ``tick`` for ``stall_timeout`` s raises ``stall()``, even
    when a write is stuck in the kernel (a frozen or hung destination: a stage-out waited on it for good, the job
    in SO and the server unable to exit, its worker pool joined at exit). The worker, if it ever wakes, stops at
    its next tick; ``linger``: s it is given to get there (it removes its partial copy) before this returns. One
    that finished meanwhile returns its result (its copy landed)."""
    progress, done = Progress(), threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work(progress)
        except BaseException as exc:  # handed to the watching thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="hal-copy-out", daemon=True).start()
    while not done.wait(WATCH_EVERY):
        try:
            check_stop()
            if time.monotonic() - progress.last > stall_timeout:
                raise stall()
        except BaseException:
            progress.abandoned = True
            if linger > 0 and done.wait(linger) and "result" in box:
                return box["result"]  # type: ignore[no-any-return]
            raise
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]

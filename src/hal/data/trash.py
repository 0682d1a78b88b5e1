"""Deleting an evicted or dropped copy outside the controller's lock: ``rm -rf`` of a 20,000-file folder dataset
took 17 s under it, and every request (``hal queue``) timed out meanwhile; a restart after a kill -9 mid-eviction
deleted the half-removed tree before it listened (QA).

The copy is renamed aside, under the lock, to a dot name in its own cache folder (``.<name>.<token>.trash``): one
atomic rename on the same filesystem, after which no job or scan takes it for a dataset (``NodeCache`` skips dot
names). A daemon thread per cache deletes it. A start finds the trash a killed server left by its name and hands
it to that thread, so nothing is deleted on the start path. Until a trash file is gone its bytes are still on the
disk (the disk's free bytes do not count them); ``pending`` says how many, so eviction does not evict more for
bytes already on their way out, and ``wait`` lets a copy wait for them before it writes."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
from pathlib import Path

from hal.data.tree import bytes_in, remove_path

log = logging.getLogger("hal.data")

TRASH = re.compile(r"\..+\.[0-9a-f]+\.trash")  # what ``Trash.put`` names a copy put aside


def is_trash(name: str) -> bool:
    return TRASH.fullmatch(name) is not None


class Trash:
    """A cache folder's copies put aside and being deleted by one daemon thread (started when there is work, ended
    when there is none)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[Path, int] = {}  # trash path -> bytes (-1: found at start, not measured yet)
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None

    def put(self, path: Path, size: int) -> bool:
        """``path`` renamed aside and queued for deletion; False when it was gone already. Other errors (a
        read-only disk) are raised: the copy stays where it was."""
        aside = self.root / f".{path.name}.{secrets.token_hex(6)}.trash"
        try:
            path.rename(aside)
        except FileNotFoundError:
            return False
        self._queue(aside, size)
        return True

    def found(self) -> list[Path]:
        """Trash a stopped server left in the folder (killed mid-deletion), queued for deletion; the paths."""
        with contextlib.suppress(OSError):
            left = [p for p in self.root.iterdir() if is_trash(p.name)]
            for path in left:
                self._queue(path, -1)
            return left
        return []

    def pending(self) -> int:
        """Bytes put aside and not deleted yet (those found at start once measured)."""
        with self._cond:
            return sum(max(0, n) for n in self._pending.values())

    def busy(self) -> bool:
        with self._cond:
            return bool(self._pending)

    def wait(self, timeout: float) -> bool:
        """Whether every queued copy was deleted within ``timeout`` s."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout)

    def _queue(self, path: Path, size: int) -> None:
        with self._cond:
            self._pending[path] = size
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=f"hal-trash-{self.root.name}", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._worker = None
                    self._cond.notify_all()
                    return
                path, size = next(iter(self._pending.items()))
            if size < 0:
                measured = bytes_in(path)  # found at start: its size unknown until now
                with self._cond:
                    self._pending[path] = measured
            try:
                remove_path(path)
            except OSError as exc:  # a disk gone read-only: the next start tries again (it keeps the name)
                log.warning("could not delete %s, put aside in the cache: %s", path, exc)
            with self._cond:
                self._pending.pop(path, None)
                self._cond.notify_all()

"""Which task a service instance is running: 8 bytes of memory it shares with the session manager.

An instance sends results in batches, so when it dies the oldest task the manager has not heard back about may
well have finished; the beacon says which task had started last, and that task alone pays the attempt. The
instance writes one integer per task (tens of nanoseconds); the manager reads it only when an instance is lost.
"""

from __future__ import annotations

import contextlib
import mmap
import os

NONE = -1  # no task started yet
RECEIVING = -2  # waiting for, or reading, the next message (losses.py: a message too big for memory kills it here)


class Beacon:
    """The manager's side: a memfd the instance inherits (``fd``), mapped here to read after the instance is lost."""

    def __init__(self, name: str) -> None:
        self.fd = os.memfd_create(name)  # close-on-exec: the spawn passes it on explicitly (pass_fds)
        os.ftruncate(self.fd, 8)
        self._map = mmap.mmap(self.fd, 8)
        self._view = memoryview(self._map).cast("q")
        self._view[0] = NONE

    def running(self) -> int:
        return int(self._view[0])

    def close(self) -> None:
        """After the spawn has passed the fd on (the child keeps its own copy), and when the instance is gone."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def release(self) -> None:
        self.close()
        with contextlib.suppress(BufferError, ValueError):
            self._view.release()
            self._map.close()


def attach(fd: int) -> memoryview:
    """The instance's side: ``view[0] = tid`` before each task."""
    view = memoryview(mmap.mmap(fd, 8)).cast("q")
    os.close(fd)  # the mapping stays valid
    return view

"""The controller's last sign of life, a file in its home touched every few seconds: a restart reads when the
previous controller stopped. What ran inside that process (a stage-in's copy) stopped then, not at the restart, so
a stage-in cut by a kill -9 is charged to fair share up to that moment, not through the whole downtime (QA)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

ALIVE_FILE = "alive"
BEAT_S = 5.0  # how far a cut stage-in's end may lie after the real stop


class Heartbeat:
    def __init__(self, path: Path, every: float = BEAT_S) -> None:
        self.path, self.every = path, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def last(self) -> float | None:
        """When the previous controller last beat (None on a first start, or a file that cannot be read)."""
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="hal-alive", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A clean stop beats once more: the controller stops now."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.every)
        self.beat()

    def beat(self) -> None:
        with contextlib.suppress(OSError):  # a full disk must not stop the controller; the mark only ages
            if not self.path.exists():  # owner-only, as every file of the home (CI: it was made 0644)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.utime(self.path)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()

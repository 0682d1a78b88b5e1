"""Retraining off the scheduling path: a worker thread fits while predictions go on with the old model."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hal.engine.predict.gbm import Trained, train
from hal.engine.predict.trees import GbmConfig

Snapshot = tuple[list[list[float]], list[float], GbmConfig]


@dataclass(frozen=True, slots=True)
class Fit:
    """One fit that ended: how many completions it was fitted on, its seconds, and its error when it failed."""

    samples: int
    seconds: float
    error: BaseException | None = None


class BackgroundTrainer:
    """A ``Trainer`` whose ``submit`` returns at once; the fit runs on one worker thread.

    Live (``deterministic=False``): a finished model is taken at the next prediction; a snapshot that
    arrives while a fit runs replaces any older waiting one, so the newest data is trained next.
    Replays (``deterministic=True``): the model fitted at retraining k is handed over at retraining k+1,
    so the same trace gives the same predictions whatever the machine's speed, and the fit still overlaps
    the simulation of the completions in between.
    """

    def __init__(self, deterministic: bool = False, on_fit: Callable[[Fit], None] | None = None) -> None:
        self.deterministic = deterministic
        self.on_fit = on_fit  # told of each fit on the worker thread (the live controller logs and counts them)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._waiting: Snapshot | None = None
        self._done: Trained | None = None
        self._ready: Trained | None = None
        self.error: BaseException | None = None
        self.fits = 0

    def submit(self, inputs: list[list[float]], targets: list[float], cfg: GbmConfig) -> None:
        snap: Snapshot = (inputs, targets, cfg)
        if self.deterministic:
            self.join()
            with self._lock:
                self._ready, self._done = self._done, None
            self._start(snap)
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._waiting = snap
                return
        self._start(snap)

    def _start(self, snap: Snapshot) -> None:
        self._thread = threading.Thread(target=self._run, args=(snap,), name="hal-gbm-trainer", daemon=True)
        self._thread.start()

    def _run(self, snap: Snapshot) -> None:
        while True:
            t0, error = time.perf_counter(), None
            try:
                model = train(*snap)
            except Exception as exc:  # a failed fit keeps the old model; the error is kept for the shell
                self.error = error = exc
                model = None
            with self._lock:
                self.fits += 1
                if model is not None:
                    self._done = model
                nxt, self._waiting = self._waiting, None
            if self.on_fit is not None:
                with contextlib.suppress(Exception):  # telling must never stop the fits
                    self.on_fit(Fit(len(snap[1]), time.perf_counter() - t0, error))
            if nxt is None:
                return
            snap = nxt

    def take(self) -> Trained | None:
        with self._lock:
            if not self.deterministic and self._done is not None:
                self._ready, self._done = self._done, None
            got, self._ready = self._ready, None
        return got

    def join(self) -> None:
        """Wait for the running fit (shutdown, tests)."""
        thread = self._thread
        if thread is not None:
            thread.join()

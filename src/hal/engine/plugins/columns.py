"""Job attributes as numpy columns, for queue orders that score the whole queue at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hal.model.job import JobSpec


def waits_and_sizes(jobs: Sequence[JobSpec], now: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(time waited so far, processors) per job; from the queue's columns when ``jobs`` carries them."""
    cols = getattr(jobs, "columns", None)  # a QueueJobs (hal.engine.queue imports this module's users)
    if cols is not None:
        submit: npt.NDArray[np.float64] = cols.submit
        return np.maximum(now - submit, 0.0), cols.procs
    n = len(jobs)
    submit = np.fromiter((j.submit_time for j in jobs), np.float64, n)
    procs = np.fromiter((j.procs for j in jobs), np.float64, n)
    return np.maximum(now - submit, 0.0), procs

"""PNG plots of simulated schedules: wait distributions, queue length and utilization over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from hal.sim.runner import SimRun


def plot_comparison(runs: Sequence[tuple[str, SimRun]], folder: Path, title: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [_waits(runs, folder / "wait_distribution.png", title)]
    written.append(_over_time(runs, folder / "queue_utilization.png", title))
    return written


def _waits(runs: Sequence[tuple[str, SimRun]], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, run in runs:
        out = run.outcome
        wait = np.sort(out.start[out.done] - out.submit[out.done])
        if len(wait) == 0:
            continue
        frac = np.arange(1, len(wait) + 1) / len(wait)
        ax.plot(np.maximum(wait, 1.0), frac, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("wait time (s, log scale; 0 shown as 1)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title(f"{title}: cumulative wait distribution")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _over_time(runs: Sequence[tuple[str, SimRun]], path: Path, title: str) -> Path:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, run in runs:
        samples = run.outcome.queue_samples
        if not samples:
            continue
        t = np.array([s[0] for s in samples]) / 86400.0
        t -= t[0]
        top.plot(t, [s[1] for s in samples], label=label, lw=0.9)
        bottom.plot(t, np.array([s[2] for s in samples]) / max(run.outcome.capacity, 1), label=label, lw=0.9)
    top.set_ylabel("jobs waiting")
    top.set_title(f"{title}: queue length and utilization")
    bottom.set_ylabel("busy fraction")
    bottom.set_xlabel("days since first submission")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    top.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""PNG plots of simulated schedules: wait distributions, queue length and utilization over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from hal.atomic_write import output_file
from hal.sim.simulator import Outcome

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
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    """The figure as a PNG, whole or not at all (hal.atomic_write: OutputError; a full disk left a cut-off one)."""
    fig.tight_layout()
    try:
        with output_file(path, binary=True) as fh:
            fig.savefig(fh, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def busy_fraction(out: Outcome, edges: np.ndarray) -> np.ndarray:
    """Exact time-averaged share of processors busy in each bin [edges[i], edges[i+1])."""
    done = out.done
    times = np.concatenate([out.start[done], out.end[done]])
    deltas = np.concatenate([out.procs[done], -out.procs[done]]).astype(np.float64)
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(deltas[order])
    # area under the busy step function up to each edge
    seg = np.diff(times, append=times[-1]) * level
    area = np.concatenate([[0.0], np.cumsum(seg)])
    pos = np.searchsorted(times, edges, side="right")
    before = area[pos - 1] if len(times) else np.zeros_like(edges)
    last_level = np.where(pos > 0, level[np.maximum(pos - 1, 0)], 0.0)
    last_time = np.where(pos > 0, times[np.maximum(pos - 1, 0)], edges)
    cum = np.where(pos > 0, before + last_level * (edges - last_time), 0.0)
    widths = np.diff(edges)
    return np.asarray(np.diff(cum) / (widths * max(out.capacity, 1)))


def _over_time(runs: Sequence[tuple[str, SimRun]], path: Path, title: str) -> Path:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, run in runs:
        samples = run.outcome.queue_samples
        if not samples:
            continue
        t = np.array([s[0] for s in samples])
        origin = t[0]
        top.plot((t - origin) / 86400.0, [s[1] for s in samples], label=label, lw=0.9)
        out = run.outcome
        edges = np.linspace(origin, float(np.nanmax(out.end)), 121)
        mids = (edges[:-1] + edges[1:]) / 2
        bottom.step((mids - origin) / 86400.0, busy_fraction(out, edges), where="mid", label=label, lw=0.9)
    top.set_ylabel("jobs waiting")
    top.set_title(f"{title}: queue length and utilization")
    bottom.set_ylabel("utilization (bin average)")
    bottom.set_xlabel("days since first submission")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    top.legend(fontsize=8)
    return _save(fig, path)

"""Which jobs `hal predict-eval --window START:COUNT` scores: the same ones `hal simulate` and `hal tune` take
(hal.sim.window counts them for all), though predictions replay in submit order."""

from __future__ import annotations

import dataclasses

import numpy as np

from hal.learn.evaluate import CLASSES, Evaluation, Scores
from hal.model.job import JobSpec
from hal.sim.window import Window


def id_window(jobs: list[JobSpec], window: Window) -> tuple[tuple[int, int], list[int] | None]:
    """The window's stretch of ``jobs`` (in submit order) to replay, and the offsets in it of the window's own
    jobs when they are not that whole stretch (a trace not sorted by submit time); None when they are, as on
    every archive trace, so sorted traces score exactly as before."""
    ids = set(window.ids)
    chosen = [i for i, job in enumerate(jobs) if job.job_id in ids]
    lo, hi = chosen[0], chosen[-1] + 1
    return (lo, hi - lo), (None if hi - lo == len(chosen) else [p - lo for p in chosen])


def only(ev: Evaluation, jobs: list[JobSpec], offsets: list[int]) -> Evaluation:
    """``ev`` scored on the jobs at ``offsets`` of its stretch only (``jobs``: that stretch)."""
    preds = np.asarray(ev.predictions, dtype=np.float64)[offsets]
    real = np.array([jobs[i].runtime for i in offsets], dtype=np.float64)
    by_class = {label: Scores.of(preds[(real >= lo) & (real < hi)], real[(real >= lo) & (real < hi)])
                for label, lo, hi in CLASSES}  # fmt: skip
    return dataclasses.replace(ev, overall=Scores.of(preds, real), by_class=by_class, predictions=preds)

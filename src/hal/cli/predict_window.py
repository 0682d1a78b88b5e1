"""Which jobs `hal predict-eval --window START:COUNT` scores: the same ones `hal simulate` and `hal tune` take,
counted in job-id order (the archive's and RLScheduler's order), though predictions replay in submit order."""

from __future__ import annotations

import dataclasses

import numpy as np

from hal.learn.evaluate import CLASSES, Evaluation, Scores
from hal.model.job import JobSpec


def id_window(jobs: list[JobSpec], start: int, count: int) -> tuple[tuple[int, int], list[int] | None]:
    """The window's stretch of ``jobs`` (in submit order) to replay, and the offsets in it of the window's own
    jobs when they are not that whole stretch (a trace not sorted by submit time); None when they are, as on
    every archive trace, so sorted traces score exactly as before."""
    by_id = sorted(range(len(jobs)), key=lambda i: jobs[i].job_id)
    chosen = sorted(by_id[start : start + count])
    lo, hi = chosen[0], chosen[-1] + 1
    return (lo, hi - lo), (None if hi - lo == len(chosen) else [p - lo for p in chosen])


def only(ev: Evaluation, jobs: list[JobSpec], offsets: list[int]) -> Evaluation:
    """``ev`` scored on the jobs at ``offsets`` of its stretch only (``jobs``: that stretch)."""
    preds = np.asarray(ev.predictions, dtype=np.float64)[offsets]
    real = np.array([jobs[i].runtime for i in offsets], dtype=np.float64)
    by_class = {label: Scores.of(preds[(real >= lo) & (real < hi)], real[(real >= lo) & (real < hi)])
                for label, lo, hi in CLASSES}  # fmt: skip
    return dataclasses.replace(ev, overall=Scores.of(preds, real), by_class=by_class, predictions=preds)

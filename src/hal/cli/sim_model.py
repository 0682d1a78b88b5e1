"""A saved gbm model (--model) for `hal simulate`, `compare` and `predict-eval`: loaded once, labelled when unusable,
and the note when it may have learned the very jobs it is asked about."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from hal.cli.common import err, fail
from hal.cli.sim_json import FALLBACK
from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.provenance import EPOCH_2000
from hal.learn.store import load_model, load_or_fallback
from hal.model.job import JobSpec
from hal.sim.swf import TraceError, open_text


class SavedModel:
    """Makes the predictor of each run: the model loaded at the check first, then a fresh copy from the file
    (hal compare runs one per policy); ``learned_until`` is the model's, for the overlap note."""

    def __init__(self, path: Path, pred: GbmPredictor) -> None:
        self.path, self.learned_until = path, pred.learned_until
        self._first = [pred]

    def __call__(self) -> RuntimePredictor:
        return self._first.pop() if self._first else load_model(self.path)


def gbm_from_file(
    model: Path, trace: Path | None = None, asked: str | None = None
) -> tuple[Callable[[], RuntimePredictor], str]:
    """A saved model and the name of what will predict: the file is checked now, so an unusable one is
    reported once, and the run is last2's, labelled as a fallback (``fallback_name``) so no result passes for
    the model's. With ``trace``, a note when the model may have learned from this trace's own jobs (the first
    record's submit time; ``note_overlap`` with the jobs that run is exact); with ``asked`` (the --estimate
    typed), a note when the file's model predicts as the other gbm, as predict-eval says."""
    if not model.exists():  # a typo is an error; only an unusable file falls back to last2
        raise fail(f"model file not found: {model} (hal predict-eval TRACE --save-model FILE writes one)")
    pred, warning = load_or_fallback(model)
    if warning or not isinstance(pred, GbmPredictor):
        err.print(f"[yellow]warning:[/] {escape(warning or '')}")  # a path may hold [brackets]
        return LastTwo, fallback_name(model)
    if asked is not None and pred.name != asked:
        err.print(f"[yellow]note:[/] {model} holds a {pred.cfg.mode} model: it predicts as {pred.name}")
    note = overlap_note(model, pred.learned_until, first_submit(trace)) if trace else None
    if note:
        err.print(f"[yellow]note:[/] {note}")
    return SavedModel(model, pred), pred.name


def note_overlap(predictor: Callable[[], RuntimePredictor] | None, jobs: list[JobSpec]) -> None:
    """The overlap note against the jobs that run (a --window's, not the whole trace's first, QA)."""
    if isinstance(predictor, SavedModel) and jobs:
        note = overlap_note(predictor.path, predictor.learned_until, min(j.submit_time for j in jobs))
        if note:
            err.print(f"[yellow]note:[/] {note}")


def fallback_name(model: Path) -> str:
    """What predicted when ``model`` was unusable, as results label it: last2, and why."""
    return f"{FALLBACK} {model.name} unusable)"


def note_fallback(estimate: str, asked: str) -> None:
    """After the results, the fallback again: the warning before them may have scrolled away, and the issue's
    rule keeps the exit status 0 (a bad model file never stops a run)."""
    if estimate.startswith(FALLBACK):
        err.print(f"[yellow]warning:[/] these results are last2's, not {asked}'s: the --model file was unusable")


def first_submit(trace: Path) -> float | None:
    """The first record's submit time, read without loading the trace (None when there is none to read, or the
    trace is a pipe: reading it again would take the lines the replay needs)."""
    try:
        if not trace.is_file():
            return None
        with open_text(trace) as fh:  # as the trace is read: gzip-compressed, or behind a BOM
            for line in fh:
                fields = line.split()
                if fields and not line.lstrip().startswith(";") and len(fields) > 1:
                    return float(fields[1])
    except (TraceError, OSError, ValueError, EOFError, zlib.error):  # the trace's own reading says why
        return None
    return None


def overlap_note(model: Path, learned_until: float, first: float | None) -> str | None:
    """A model trained on a trace scores that trace's early jobs having seen them: said, not refused (the same
    file may well be another trace that starts at 0 too). ``first``: the first submission scored or run."""
    if first is None or not first < learned_until < EPOCH_2000:  # a live server's model: epoch times, not a trace's
        return None
    return (
        f"{model} learned from jobs that ended up to t={learned_until:,.0f} s of the trace it was trained on; if "
        "that is this trace, its jobs before then are scored by a model that has seen them "
        "(results inflated). Save one from an earlier window instead (hal predict-eval --window 0:N --save-model "
        "FILE learns only the runs that ended before the next job came) and score from there on (--window N:COUNT); "
        "a model from another trace also brings that trace's per-user histories, matched by user number."
    )

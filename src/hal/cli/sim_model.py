"""A saved gbm model (--model) for `hal simulate`, `compare` and `predict-eval`: loaded once, labelled when unusable,
and the note when it may have learned the very jobs it is asked about."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.markup import escape

from hal.cli.common import err, fail
from hal.cli.sim_json import FALLBACK
from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.clocks import Reach, seen
from hal.learn.store import load_model, load_or_fallback
from hal.model.job import JobSpec
from hal.sim.swf import SwfTrace


class SavedModel:
    """Makes the predictor of each run: the model loaded at the check first, then a fresh copy from the file
    (hal compare runs one per policy); ``reach`` is the model's, for the overlap note."""

    def __init__(self, path: Path, pred: GbmPredictor) -> None:
        self.path, self.reach = path, Reach.of(pred)
        self._first = [pred]

    def __call__(self) -> RuntimePredictor:
        return self._first.pop() if self._first else load_model(self.path)


def gbm_from_file(model: Path, asked: str | None = None) -> tuple[Callable[[], RuntimePredictor], str]:
    """A saved model and the name of what will predict: the file is checked now, so an unusable one is
    reported once, and the run is last2's, labelled as a fallback (``fallback_name``) so no result passes for
    the model's. With ``asked`` (the --estimate typed), a note when the file's model predicts as the other gbm, as
    predict-eval says; ``note_overlap`` says, once the jobs that run are known, whether it may have learned them."""
    if not model.exists():  # a typo is an error; only an unusable file falls back to last2
        raise fail(f"model file not found: {model} (hal predict-eval TRACE --save-model FILE writes one)")
    pred, warning = load_or_fallback(model)
    if warning or not isinstance(pred, GbmPredictor):
        err.print(f"[yellow]warning:[/] {escape(warning or '')}")  # a path may hold [brackets]
        return LastTwo, fallback_name(model)
    if asked is not None and pred.name != asked:
        err.print(f"[yellow]note:[/] {model} holds a {pred.cfg.mode} model: it predicts as {pred.name}")
    return SavedModel(model, pred), pred.name


def note_overlap(predictor: Callable[[], RuntimePredictor] | None, jobs: list[JobSpec], trace: SwfTrace) -> None:
    """The overlap note against the jobs that run (a --window's, not the whole trace's first, QA)."""
    if isinstance(predictor, SavedModel) and jobs:
        note = overlap_note(predictor.path, predictor.reach, [j.submit_time for j in jobs], trace)
        if note:
            err.print(f"[yellow]note:[/] {escape(note)}")


def fallback_name(model: Path) -> str:
    """What predicted when ``model`` was unusable, as results label it: last2, and why."""
    return f"{FALLBACK} {model.name} unusable)"


def note_fallback(estimate: str, asked: str) -> None:
    """After the results, the fallback again: the warning before them may have scrolled away, and the issue's
    rule keeps the exit status 0 (a bad model file never stops a run)."""
    if estimate.startswith(FALLBACK):
        err.print(f"[yellow]warning:[/] these results are last2's, not {asked}'s: the --model file was unusable")


def overlap_note(model: Path, reach: Reach, submits: Sequence[float], trace: SwfTrace | None) -> str | None:
    """When the model may have learned jobs it is asked about (``submits``: the jobs scored or run, on the trace's
    clock), on one clock with the trace's (hal.learn.clocks: a trace in epoch times, or an export of this site's
    history against a live server's model, QA): said, not refused (the same file may well be another trace on the
    same clock, or another site's)."""
    n = seen(reach, submits, trace)
    if not n:
        return None
    if not reach.epoch:
        return (
            f"{model} learned from jobs that ended up to t={reach.until:,.0f} s of the trace it was trained on, and "
            f"{n:,} job(s) scored or run here were submitted by then; if that is this trace, they are predicted by "
            "a model that has seen them (results inflated). Save one from an earlier window instead (hal predict-eval "
            "--window 0:N --save-model FILE learns only the runs that ended before the next job came) and score from "
            "there on (--window N:COUNT); a model from another trace also brings that trace's per-user histories, "
            "matched by user number."
        )
    since = f", of jobs submitted from {_utc(reach.since)}" if reach.since is not None else ""
    return (
        f"{model} learned runs that ended up to {_utc(reach.until)}{since}, and {n:,} job(s) scored or run here were "
        "submitted in that time (the trace's times on the epoch, by its UnixStartTime when they count from its "
        "start); if they are the jobs it learned (this site's history, as hal history --swf exports it, or the trace "
        "it was trained on), they are predicted by a model that has seen them (results inflated): score only jobs "
        "submitted after it learned (--window), or save a model from an earlier window (--save-model)."
    )


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

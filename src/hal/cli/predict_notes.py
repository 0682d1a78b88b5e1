"""What `hal predict-eval` says about the trace it scores and the model it continues or saves: the records it leaves
out, the trace's data notes in the words hal simulate uses (hal.sim.trace_notes), and what a --model or
--save-model run learned."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape

from hal.cli.common import err
from hal.engine.predict.basic import DEFAULT_LIMIT
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import Evaluation, History
from hal.model.job import JobSpec
from hal.sim.swf import SwfTrace
from hal.sim.trace_notes import cancelled, data_notes, window_id_note
from hal.sim.window import Window


def say(text: str) -> None:
    err.print(f"[yellow]note:[/] {escape(text)}")


def note_history(swf: SwfTrace, history: History, predictor: str, window: str | None) -> None:
    """The records left out and what the trace's data lacks, before the replay (QA: the notes simulate prints on
    ids out of submit order, no user ids and absurd run times were missing here)."""
    if history.unknown:
        err.print(f"{history.unknown:,} record(s) without a run time or processor count left out (nothing to score):")
        first_lines(history.unknown_lines)
    if history.duplicates:
        say(f"{history.duplicates:,} record(s) repeat an earlier job id: left out, as hal simulate does:")
        first_lines(history.duplicate_lines)
    learns = cancelled(swf) if predictor != "user" else None
    for text in [*data_notes(swf), *([learns] if learns else [])]:
        say(text)
    ids = window_id_note(swf, window) if window else None
    if ids:
        say(ids)
    if history.no_wait:
        say(
            f"{history.no_wait:,} job(s) have no recorded wait (field 3): each is taken to end at submit + run time, "
            "the earliest it can have, so a later prediction may learn of its end before it came"
        )
    unrequested = sum(1 for j in history.jobs if j.time_limit is None)
    if unrequested and predictor == "user":
        say(
            f"{unrequested:,} job(s) have no requested time (field 9): the user predictor predicts "
            f"{DEFAULT_LIMIT:,.0f} s for them (hal simulate plans them with their run time, as the reference "
            "simulators do)"
        )


def first_lines(problems: Sequence[object]) -> None:
    """The first five records left out by line and job, then a count, as hal simulate lists its skipped ones (QA:
    predict-eval only counted them)."""
    for p in problems[:5]:
        err.print(f"  {escape(str(p))}")
    if len(problems) > 5:
        err.print(f"  ... and {len(problems) - 5:,} more")


def next_job(jobs: Sequence[JobSpec], window: Window) -> JobSpec | None:
    """The first submitted of the jobs after the window in job-id order (None: there is none): a model saved from the
    window learns only the runs that ended before it came, so no later window it scores saw a run end after its jobs
    were submitted. On a trace numbered in submit order it is the next submission after the window; on one that is
    not, it may come before some of the window's own jobs (QA: 0:1500 of shuffled ids learned all 3,000 jobs)."""
    return min((j for j in jobs if j.job_id > window.hi), key=lambda j: (j.submit_time, j.job_id), default=None)


def cut_reason(after: JobSpec) -> str:
    """Why a model saved from a window learned so little: what it may learn ends where the next job came."""
    return (
        f"with --window it learns only the runs that ended before t={after.submit_time:,.0f} s, when job "
        f"{after.job_id}, the first after the window in job-id order, was submitted"
    )


def saved_at_cut(path: Path, after: JobSpec, resume: int, pred: GbmPredictor, late: int) -> str:
    """What a model saved from a window has learned: the runs that ended before the next job (``after``) came, so
    scoring the rest of the trace with it (--model) sees no run that ended after its jobs were submitted. ``late``:
    the window's jobs submitted after it, predicted without the runs that ended since."""
    cut = after.submit_time
    text = (
        f"{path} has learned the runs that ended before t={cut:,.0f} s, when the job after the window (job "
        f"{after.job_id}) was submitted, as a scheduler knew them then; {len(pred.pending):,} job(s) still running "
        f"were not learned: hal predict-eval --model {path} --window {resume}:COUNT learns them as they end"
    )
    if late:
        text += (
            f". Job ids are not in submit order: {late:,} of the window's jobs were submitted after job "
            f"{after.job_id}, and were predicted without the runs that ended since (without --save-model they are not)"
        )
    return text


def learned_note(
    ev: Evaluation, model: Path | None, reach: tuple[float, float] | None, window: bool = True
) -> str | None:
    """What a --model run did with the jobs it had learned: before the window, not fed again; in it (or in the whole
    trace, without ``window``), scored but not learned again (QA: a model saved from 0:1500 and scored on 1000:500
    was said to have learned other jobs than this trace's, and was fed them a second time). Or, when its record of
    the runs it learned is not of this trace's jobs (another trace, whose clock also starts near 0: QA), that they
    are fed to it."""
    if model is None or reach is None:
        return None
    if ev.other_jobs:
        return (
            f"{model} learned other jobs than this trace's {ev.other_jobs:,} before the window (the record it keeps "
            "of the runs it learned does not match them): they are fed to it in time order, as a run without "
            "--model learns them"
        )
    if not ev.already_learned and not ev.learned_scored:
        return None
    how = (
        f"; {model} does not record which jobs it learned (an older HAL saved it), so they are matched by time alone"
        if ev.by_times
        else ""
    )
    before = (
        [f"the {ev.already_learned:,} before the window are taken as learned, not fed to it again"]
        if ev.already_learned  # none without a window (or from its first job)
        else []
    )
    scored = "the window's own jobs" if window else "the jobs scored"
    inside = (
        [
            f"{ev.learned_scored:,} of {scored} are among them: scored by a model that has learned them (results "
            "inflated), and not learned again"
        ]
        if ev.learned_scored
        else []
    )
    return f"{model} has learned this trace's jobs that ended by t={reach[0]:,.0f} s: {'; '.join(before + inside)}{how}"

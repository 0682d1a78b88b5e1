"""Online evaluation of a runtime predictor on a trace's real history: who was predicted what, and how well.

The trace's own schedule gives each job's real end (submit + wait + run). Events are replayed in time
order, submissions before completions at the same instant, so a prediction only ever uses jobs that
finished strictly before the job was submitted.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hal.engine.api import RuntimePredictor
from hal.engine.predict.fingerprint import Fingerprint
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.clocks import same_clock
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.sim.swf import Problem, SwfTrace, read_swf
from hal.sim.workload import cut_short, first_records

CLASSES: tuple[tuple[str, float, float], ...] = (
    ("< 1 min", 0.0, 60.0),
    ("1-10 min", 60.0, 600.0),
    ("10 min-1 h", 600.0, 3600.0),
    ("1-4 h", 3600.0, 14400.0),
    ("> 4 h", 14400.0, float("inf")),
)


@dataclass(frozen=True, slots=True)
class History:
    """Jobs in submission order with their real ends; ``time_limit`` is None where the trace has none."""

    jobs: list[JobSpec]
    ends: npt.NDArray[np.float64]
    unknown: int = 0  # records left out: no run time or no processor count, so nothing to score
    no_wait: int = 0  # jobs without a recorded wait: their end is taken as submit + run, the earliest it can be
    duplicates: int = 0  # records whose job id an earlier line has: left out, as the simulator leaves them
    # the records left out, each by its line and job as hal simulate names them (QA: only counted)
    unknown_lines: tuple[Problem, ...] = ()
    duplicate_lines: tuple[Problem, ...] = ()


def trace_history(trace: SwfTrace | str | Path) -> History:
    """Every record with a known run time (>= 0) and processor count; no request becomes no limit."""
    swf = trace if isinstance(trace, SwfTrace) else read_swf(trace)
    jobs: list[JobSpec] = []
    ends: list[float] = []
    no_wait = 0
    unknown: list[Problem] = []
    # one record per job id, the one hal simulate keeps (a predictor keys pending jobs by id)
    kept, repeats = first_records(swf.records)
    duplicates = [p for rec in kept for p in repeats.get(rec.job_id, ())]
    for rec in sorted(kept, key=lambda r: (r.submit, r.job_id)):
        procs = rec.procs if rec.procs > 0 else rec.req_procs
        if procs <= 0:  # in hal simulate's words (hal.sim.workload)
            unknown.append(Problem(rec.line, f"job {rec.job_id}: no processor count (fields 5 and 8)"))
            continue
        if rec.run < 0:
            unknown.append(Problem(rec.line, f"job {rec.job_id}: run time {rec.run} s (unknown)"))
            continue
        no_wait += rec.wait < 0
        jobs.append(
            JobSpec(
                job_id=rec.job_id,
                submit_time=float(rec.submit),
                tasks=procs,
                per_task=Resources(cpus=1),
                time_limit=float(rec.req_time) if rec.req_time > 0 else None,
                user=f"u{rec.user}",
                group=f"g{rec.group}",
                partition=str(rec.partition),
                executable=rec.executable,
                queue=rec.queue,
                runtime=float(rec.run),
                cut_short=cut_short(rec.status, swf),
            )
        )
        ends.append(float(rec.submit + max(rec.wait, 0) + rec.run))
    return History(
        jobs,
        np.array(ends, dtype=np.float64),
        len(unknown),
        no_wait,
        len(duplicates),
        tuple(unknown),
        tuple(duplicates),
    )


@dataclass(frozen=True, slots=True)
class Scores:
    jobs: int
    accuracy: float
    mae: float
    median_ae: float
    under_rate: float

    @staticmethod
    def of(pred: npt.NDArray[np.float64], real: npt.NDArray[np.float64]) -> Scores:
        if len(pred) == 0:  # an empty runtime class has no scores (null in JSON), not perfect or zero ones
            return Scores(0, math.nan, math.nan, math.nan, math.nan)
        p1, r1 = np.maximum(pred, 1.0), np.maximum(real, 1.0)  # a run of 0 s scored as 1 s, the predictors' floor
        ratio = np.minimum(p1, r1) / np.maximum(p1, r1)  # (QA: 0 whatever was predicted, the best 1 s too)
        err = np.abs(pred - real)
        return Scores(
            len(pred), float(ratio.mean()), float(err.mean()), float(np.median(err)), float((pred < real).mean())
        )


@dataclass(frozen=True, slots=True)
class Evaluation:
    predictor: str
    trace: str
    overall: Scores
    by_class: dict[str, Scores]
    predict_us: float  # mean cost of one predict() call
    total_us: float  # predict + observe (training included) per job
    predictions: npt.NDArray[np.float64] = field(repr=False)
    cut: float | None = None  # completions at or after this (the submission after the window) were not learned
    already_learned: int = 0  # jobs before the window a loaded model had learned: not fed again
    by_times: bool = False  # those were matched by times alone: the model file does not say which jobs it learned
    other_jobs: int = 0  # jobs before the window fed to a loaded model that had learned other jobs (another trace)
    learned_scored: int = 0  # jobs of the window a loaded model had learned: scored, but not learned again

    def as_dict(self) -> dict[str, object]:
        return {
            "predictor": self.predictor,
            "trace": self.trace,
            **_json(asdict(self.overall)),
            "by_class": {k: _json(asdict(v)) for k, v in self.by_class.items()},
            "predict_us_per_job": self.predict_us,
            "total_us_per_job": self.total_us,
        }


def _json(scores: dict[str, float]) -> dict[str, float | None]:
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in scores.items()}


def reach_of(predictor: RuntimePredictor, first: float = 0.0) -> tuple[float, float] | None:
    """How far a loaded model got on a trace's clock: the latest end it learned and the latest submission it saw
    (a model saved mid-window by an older HAL learned runs ending after later jobs came, which it never saw).
    None for anything else, or a model whose times are not on the clock of the trace's (``first``, its first
    submission): a live server's epoch times on an archive trace's own clock."""
    if not isinstance(predictor, GbmPredictor) or not predictor.learned_until > 0 or not same_clock(predictor, [first]):
        return None
    seen = max((u.last_submit for u in predictor.history.users.values()), default=-1.0)
    return (predictor.learned_until, seen) if seen >= 0 else None


def replay(
    history: History,
    predictor: RuntimePredictor,
    learned: npt.NDArray[np.bool_] | None = None,
    cut: float | None = None,
    start: int = 0,
) -> tuple[npt.NDArray[np.float64], float, float]:
    """Predictions in job order, and the seconds spent in predict() and in observe(). Jobs marked ``learned`` (a
    loaded model has learned them) before ``start`` are neither predicted (0) nor learned again; from ``start`` on
    (they are scored) they are predicted and forgotten at their end, as a run cut short (``JobSpec.cut_short``) is.
    A completion at or after ``cut`` is not learned."""
    jobs = history.jobs
    again = np.zeros(len(jobs), dtype=np.bool_) if learned is None else learned
    skip = again & (np.arange(len(jobs)) < start)
    new = np.flatnonzero(~skip).tolist()
    events: list[tuple[float, int, int]] = [(jobs[i].submit_time, 0, i) for i in new]
    events += [(float(history.ends[i]), 1, i) for i in new if cut is None or history.ends[i] < cut]
    heapq.heapify(events)
    preds = np.zeros(len(jobs))
    t_pred = t_obs = 0.0
    clock = time.perf_counter
    while events:
        when, kind, i = heapq.heappop(events)
        job = jobs[i]
        t0 = clock()
        if kind == 0:
            preds[i] = predictor.predict(job).point
            t_pred += clock() - t0
        elif job.cut_short or again[i]:  # a cancel, as the server and hal simulate do (Scheduler.finish), or learned
            forget = getattr(predictor, "forget", None)
            if forget is not None:
                forget(job.job_id)
            t_obs += clock() - t0
        else:
            predictor.observe(job, job.runtime or 0.0, when)
            t_obs += clock() - t0
    return preds, t_pred, t_obs


def evaluate(
    history: History,
    predictor: RuntimePredictor,
    trace_name: str = "",
    window: tuple[int, int] | None = None,
    reach: tuple[float, float] | None = None,
    to_save: bool = False,
    cut: float | None = None,
) -> Evaluation:
    """Scores of the predictions made online; ``window`` (start, count in submission order) scores only those
    jobs, their predictions made after learning from every earlier completion of the trace.

    With a window and ``to_save`` (the model is saved afterwards), nothing that ends at or after the next job's
    submission (the cut-off) is learned: no prediction of the window needs it, and the saved model has learned
    only what a scheduler running the next window could know (QA: a model saved from 0:1500 had learned runs
    ending long after job 1500 was submitted). ``reach``, a loaded model's (``reach_of``): the jobs before the
    window that it saw submitted and that ended by the time it has learned up to are not fed again (QA: a model
    from 0:1500 continued on 1500:1500 learned 0:1500 twice) if they are the very jobs it learned (its
    ``Fingerprint``; a file too old to keep one: times alone); those still running then are, as a restarted server
    relearns the records after it. If they are not (another trace: every archive trace's clock starts near 0, QA),
    every job before the window is fed to it as a run without a model learns them. ``cut``: the caller's cut-off
    for ``to_save`` when the next submission after the window is not it (a trace whose job ids are not in submit
    order: the first submission of a job after the window in id order)."""
    start, stop = (0, len(history.jobs)) if window is None else (window[0], window[0] + window[1])
    if not to_save or window is None:
        cut = None
    elif cut is None and stop < len(history.jobs):
        cut = history.jobs[stop].submit_time
    learned, known, other = None, None, 0
    if reach is not None:  # over the whole trace: a model saved from a later window learned some of this one's jobs
        learned, known = handled(history, predictor, reach)
        if learned is None:
            other = start
            assert isinstance(predictor, GbmPredictor)  # a record that did not match is a gbm's
            predictor.pending.clear()  # its unfinished jobs are another trace's, their ids this one's
        else:
            learned = learned[:stop]
    if window is not None:  # later jobs cannot change earlier predictions (online), so the replay stops there
        history = History(history.jobs[:stop], history.ends[:stop], history.unknown)
    preds, t_pred, t_obs = replay(history, predictor, learned, cut, start)
    preds = preds[start:]
    real = np.array([j.runtime for j in history.jobs[start:]], dtype=np.float64)
    by_class = {}
    for label, lo, hi in CLASSES:
        mask = (real >= lo) & (real < hi)
        by_class[label] = Scores.of(preds[mask], real[mask])
    n = max(len(real), 1)
    return Evaluation(
        predictor.name,
        trace_name,
        Scores.of(preds, real),
        by_class,
        1e6 * t_pred / n,
        1e6 * (t_pred + t_obs) / n,
        preds,
        cut=cut,
        already_learned=0 if learned is None else int(learned[:start].sum()),
        by_times=learned is not None and known is None,
        other_jobs=other,
        learned_scored=0 if learned is None else int(learned[start:].sum()),
    )


def handled(
    history: History, predictor: RuntimePredictor, reach: tuple[float, float]
) -> tuple[npt.NDArray[np.bool_] | None, Fingerprint | None]:
    """The jobs a loaded model has handled, each ended by the time it has learned up to and submitted by the last
    submission it saw (its cancels forgotten, the rest learned), and its record of the runs it learned (None: a file
    too old to keep one, matched by times alone). None for the jobs when that record is not of this trace's runs
    (another trace, on a clock that also starts near 0)."""
    submits = np.array([j.submit_time for j in history.jobs], dtype=np.float64)
    done = (history.ends <= reach[0]) & (submits <= reach[1])
    known = predictor.learned if isinstance(predictor, GbmPredictor) else None
    taught = (i for i in np.flatnonzero(done) if not history.jobs[i].cut_short)  # a cancel was forgotten
    if known is not None and known != Fingerprint.of(history.jobs[i] for i in taught):
        return None, known
    return done, known

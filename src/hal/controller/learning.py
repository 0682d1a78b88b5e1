"""The live controller's runtime predictor: learned from the site's own accounting records, retrained off
the scheduling loop, and kept in a model file across restarts.

The accounting database is the source of truth: at start the predictor replays, in time order, the
submissions and ends of every job that ran after what it already knows (all of them for last2 or a new
gbm or gbm-regress; those past the model file's ``learned_until`` for a loaded one), and the submissions of the
jobs still queued or running, so each job's input is frozen as of its submission, as the live controller froze
it. A controller killed without saving therefore loses nothing but the time to relearn. An unusable model file is
set aside with a warning, and a new model is learned from the records (last2 until it has enough). A model
trained offline on a trace (``hal predict-eval --save-model``) is refused: its times are the trace's own clock
and its users the trace's numbers, so a server would learn every one of its records again on top of it; a
server learns the same from its own records at its first start.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from hal.controller.attempts import ran_attempts
from hal.controller.censored import below_asked, ended_state, learnable, learnable_attempt
from hal.controller.jobs import request_of_row, spec_of
from hal.controller.store import ACTIVE, Row, Store, jobs
from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.registry import GBM_CONFIGS, GBM_NAMES, make_predictor
from hal.learn.provenance import LIVE, TRACE, Provenance, fits_by
from hal.learn.store import ModelFileError, read_model, save_model
from hal.learn.trainer import BackgroundTrainer, Fit
from hal.model.job import JobSpec

log = logging.getLogger("hal.controller")
# One default file per learner in the state folder: switching --estimate between them keeps the other's model.
MODEL_FILES = {"gbm": "runtime-model.zip", "gbm-regress": "runtime-model-gbm-regress.zip"}
MODEL_FILE = MODEL_FILES["gbm"]
PREDICTORS = ("user", "last2", *GBM_NAMES)
SUBMIT, END, AGAIN = 0, 1, 2  # replayed events at the same instant: submissions, ends, then requeued jobs back


@dataclass(slots=True)
class LivePredictor:
    predictor: RuntimePredictor
    path: Path | None  # where a learned model is loaded from and saved to; None for the other predictors
    warning: str | None = None  # why the model file was not used
    source: str = ""  # where its knowledge comes from, for the server's log


def model_path(name: str, model: Path | None, home: Path) -> Path | None:
    """A learned predictor's model file: the one named, else the state folder's for it; the others keep none."""
    return (model or home / MODEL_FILES[name]) if name in MODEL_FILES else None


def open_predictor(name: str, model: Path | None, home: Path) -> LivePredictor:
    """``name`` as `hal server --estimate` takes it; gbm and gbm-regress start from ``model`` (default: the state
    folder's model file for it) when it exists, else untrained (last2 until they have learned enough); their fits
    run on a worker thread. A file that exists but cannot be used is set aside with the reason, and a new model
    is learned from the accounting records: the file only caches what they teach, so a damaged one must not pin
    the site to last2 for good. A --model of the other learner is refused: it would plan and be saved as that; so
    is one trained on a trace (its runs would be learned twice) and one that is not a regular file (a FIFO blocked
    the start), each left as it is."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown runtime predictor {name!r}; choose one of {', '.join(PREDICTORS)}")
    path = model_path(name, model, home)
    if path is None:
        if model is not None:
            raise ValueError("--model needs --estimate gbm or gbm-regress")
        return LivePredictor(make_predictor(name), None, source="accounting records")
    if model is not None and not path.parent.exists():  # a typo made folders (predict-eval refuses it too)
        raise ValueError(f"--model {path}: its folder {path.parent} does not exist")
    odd = None
    if model is None and path.is_dir():  # the state folder's own path: set aside as a damaged file is (QA: no start)
        odd = f"{path} is a folder, not a model file; {_set_aside(path)}"
    _writable(path)
    if model is not None and path.exists() and not path.is_file():  # a FIFO blocked the start for good
        raise ValueError(f"--model {path} is a FIFO or a device, not a regular file; it is left as it is")
    if model is not None and path.is_file() and not _looks_like_zip(path):  # e.g. a trace named by mistake
        raise ValueError(f"--model {path} is not a HAL model file (not even a zip archive); it is left as it is")
    if not path.exists() and odd is None:  # a first start: the model is built from the records, saved at shutdown
        return LivePredictor(fresh_gbm(name), path, source=f"a new model (saved to {path} at shutdown once trained)")
    got = odd or _loaded(name, model, path)
    if isinstance(got, LivePredictor):
        return got
    kept = "" if odd else f"; {_set_aside(path)}"
    fresh = fresh_gbm(name)
    warning = (
        f"{got}{kept}; a new model is fitted from the accounting records, at once if they hold "
        f"{fresh.cfg.warmup} learnable runs (the next line says), else when they do (last2 until then)"
    )
    return LivePredictor(fresh, path, warning, f"a new model (saved to {path} at shutdown once trained)")


def _loaded(name: str, model: Path | None, path: Path) -> LivePredictor | str:
    """The file's model ready to go on learning, its fits counted on from the file's; or why it cannot be used
    (a --model of the other learner or trained on a trace is refused: ValueError, the file left as it is)."""
    log_fits = FitLog()
    try:
        predictor, made = read_model(path, BackgroundTrainer(on_fit=log_fits), now=time.time())
    except ModelFileError as exc:
        return str(exc)
    if predictor.name != name:  # the file's own: its settings say which learner made it
        if model is not None:
            raise ValueError(
                f"--model {path} holds a {predictor.name} model, not {name}: use --estimate {predictor.name}"
            )
        return f"{path} holds a {predictor.name} model, not {name}"
    if made.origin == TRACE:
        why = (
            f"{path} was trained offline on a trace: it learned runs up to t={predictor.learned_until:,.0f} s of "
            "the trace's own clock, under the trace's user numbers, so this server would learn every run of its "
            "accounting records again on top of them"
        )
        if model is not None:
            raise ValueError(
                f"--model {why}; start without --model: the server fits its model on those records itself (the "
                "file is left as it is)"
            )
        return why
    samples = predictor.model.samples if predictor.model is not None else 0  # a file always holds one
    log_fits.fits, log_fits.last_fit, log_fits.samples = made.fits, made.fitted_at, samples
    return LivePredictor(predictor, path, source=f"model file {path}")


def _looks_like_zip(path: Path) -> bool:
    """A zip archive's first bytes: a damaged model file has them (it is set aside and relearned); a file
    named by mistake does not (it is refused and left alone)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in (b"PK\x03\x04", b"PK\x05\x06") or head == b""


def fresh_gbm(name: str = "gbm") -> GbmPredictor:
    """An untrained learner of ``name``'s settings, fitting on a worker thread."""
    return GbmPredictor(GBM_CONFIGS[name], trainer=BackgroundTrainer(on_fit=FitLog()), name=name)


@dataclass(slots=True)
class FitLog:
    """The live model's fits as its trainer's worker thread tells them: a log line each (a failing fit was silent),
    and the counts /metrics reads (hal.api.metrics)."""

    fits: int = 0  # over the model's whole life: a loaded model counts on from its file's
    failures: int = 0
    last_fit: float = 0.0  # when the last fit that succeeded ended (epoch seconds; 0: none yet)
    samples: int = 0  # completions that fit was trained on

    def __call__(self, fit: Fit) -> None:
        if fit.error is None:
            self.fits, self.last_fit, self.samples = self.fits + 1, time.time(), fit.samples
            log.info("runtime model fitted on %d completions in %.2f s", fit.samples, fit.seconds)
            return
        self.failures += 1
        log.warning(
            "runtime model fit on %d completions failed after %.2f s (%s: %s); planning goes on with the model "
            "in use (last2 while there is none)", fit.samples, fit.seconds, type(fit.error).__name__, fit.error,
        )  # fmt: skip


def fit_log(predictor: RuntimePredictor) -> FitLog | None:
    """The fits of a live gbm or gbm-regress (None for the other predictors)."""
    trainer = getattr(predictor, "trainer", None)
    told = getattr(trainer, "on_fit", None)
    return told if isinstance(told, FitLog) else None


def planning_with(predictor: RuntimePredictor) -> str:
    """Which predictions plan the next job: a learned model's, else the fallback gbm uses until it has one (last2).
    A background fit that has ended counts at once (it is installed here, not at the next prediction), so the caller
    holds the lock predictions are made under."""
    if isinstance(predictor, GbmPredictor):
        return predictor.name if predictor.current() is not None else predictor.fallback.name
    return str(getattr(predictor, "name", type(predictor).__name__))


def _set_aside(path: Path) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S")  # each one kept for diagnosis (the next one replaced the last)
    aside = path.with_name(f"{path.name}.unusable-{stamp}")
    try:
        os.replace(path, aside)
        return f"moved to {aside}"
    except OSError as exc:
        return f"left in place ({exc})"


def _writable(path: Path) -> None:
    """A model that cannot be saved is refused at start, not found out at shutdown. The folder is tried with a file
    made and removed, as the save makes its temporary file there: os.access is true for root everywhere (QA:
    --model /proc/x.zip started, and failed only when the model was saved at shutdown)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot keep the runtime model at {path}: {exc}") from exc
    if path.is_dir():
        raise ValueError(f"cannot keep the runtime model at {path}: not a writable file path (a folder)")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise ValueError(
            f"cannot keep the runtime model at {path}: not a writable file path (a file cannot be made in "
            f"{path.parent}: {exc.strerror or exc})"
        ) from exc
    os.close(fd)
    os.unlink(probe)


def caught_up(predictor: RuntimePredictor) -> str:
    """Wait for a fit the replay started, so the first plans use it; says what the model knows."""
    if not isinstance(predictor, GbmPredictor):
        return "no model"
    if isinstance(predictor.trainer, BackgroundTrainer):
        predictor.trainer.join()
    model = predictor.current()
    if model is None:
        return f"no model yet: last2 until {predictor.cfg.warmup} completions ({predictor.completions} so far)"
    fits = fit_log(predictor)
    when = f" at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(fits.last_fit))}" if fits and fits.last_fit else ""
    return (
        f"model trained, {predictor.completions} completions learned; fitted on {model.samples}{when}, "
        f"next fit at {predictor.next_train}"
    )


def relearn(predictor: RuntimePredictor, store: Store) -> int:
    """Replay the accounting records the predictor has not learned from, as the live controller heard them: each
    job's submission, the end of every attempt that ran (a requeued job's earlier ones too, each followed by its
    return to the queue: an ended job's when hal requeue took it back, maybe after the model file was saved, so
    its next run is learned from an input frozen then), learning only the runs that ended by themselves
    (hal.controller.censored) and forgetting the rest. A gbm also replays the submissions of jobs still queued or
    running and of those that ended in the queue, so every input is frozen as it was live: from runs that ended
    before the job was submitted, never after (a restart's own prediction of a job keeps it). Returns how many
    runs ended."""
    if not isinstance(predictor, GbmPredictor | LastTwo):  # user estimates learn nothing: skip the read
        return 0
    since = predictor.learned_until if isinstance(predictor, GbmPredictor) else 0.0
    rows = store.ran_rows(since)
    runs = ran_attempts(store, since)  # a requeued job's earlier runs, as the live controller learned them
    ended = [r for r in runs if r["end_time"] > since]  # the others' ends the loaded model learned
    events: list[tuple[float, int, int, Row, bool]] = []
    submitted: set[int] = set()

    def submit(r: Row) -> None:
        if r["submit_time"] > since and r["id"] not in submitted:  # before ``since``: the loaded history has it
            submitted.add(r["id"])
            events.append((r["submit_time"], SUBMIT, r["id"], r, False))

    ends = [(r, learnable_attempt(r["state"], r["cause"], _cut(r))) for r in ended]
    ends += [(r, learnable(r["state"], _cut(r))) for r in rows]
    for r, learn in ends:
        submit(r)
        events.append((r["end_time"], END, r["id"], r, learn))
    gbm = isinstance(predictor, GbmPredictor)
    for r in _unran(store, since, gbm):  # both freeze what a job is predicted from at its submission
        submit(r)
        if r["state"] not in ACTIVE:  # ended in the queue: forgotten then; the others have no end yet
            events.append((r["end_time"], END, r["id"], r, False))
    for r in runs:  # back in the queue: predicted again, with a new frozen input (Scheduler.submit)
        events.append((r["requeued_at"], AGAIN, r["id"], r, False))
    events.sort(key=lambda e: e[:3])
    specs: dict[int, JobSpec] = {}
    for _, kind, job_id, r, learn in events:
        spec = specs.get(job_id)
        if spec is None:
            spec = specs[job_id] = spec_of(job_id, request_of_row(r), r["user"], r["submit_time"], ())
        if kind != END:
            predictor.predict(spec)
        elif learn:
            predictor.observe(spec, r["end_time"] - r["start_time"], r["end_time"])
        else:  # as Scheduler.finish(learn=False): no longer outstanding
            predictor.forget(job_id)
    return len(rows) + len(ended)


def _unran(store: Store, since: float, ended: bool = True) -> list[Row]:
    """The jobs a replay of runs misses: those still queued or running, submitted after ``since`` (a restart predicts
    them again, but from what was known at their submission, before runs that ended later: a crash froze it with
    those), and (``ended``: gbm, which counts a user's outstanding jobs) those that ended after it without running
    (a cancel in the queue: outstanding until then)."""
    active = sa.and_(jobs.c.state.in_(ACTIVE), jobs.c.submit_time > since)
    gone = sa.and_(jobs.c.state.not_in(ACTIVE), jobs.c.start_time.is_(None), jobs.c.end_time > since)
    q = sa.select(jobs).where(sa.or_(active, gone) if ended else active).order_by(jobs.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def save_predictor(live: LivePredictor) -> Path | None:
    """Write a trained gbm or gbm-regress to its file (replaced atomically); None when there is nothing to write."""
    pred, path = live.predictor, live.path
    if path is None or not isinstance(pred, GbmPredictor):
        return None
    caught_up(pred)
    if pred.model is None:
        return None
    fits = fit_log(pred)
    made = (
        Provenance(fits.fits, fits.last_fit, LIVE)
        if fits is not None and fits.fits
        else Provenance(max(fits_by(pred.cfg, pred.completions), 1), time.time(), LIVE)
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(pred, path, made)  # atomically
    except (ModelFileError, OSError) as exc:  # shutdown goes on; the records relearn it at the next start
        log.warning("runtime model not saved to %s: %s", path, exc)
        return None
    return path


def _cut(row: Row) -> bool:
    """Whether a run (a job row, or an attempt as one: its own limit, its job's request) ran under a --time-min
    cut of its --time; only a TIMEOUT reads the request."""
    timed_out = ended_state(row["state"], row.get("cause")) == "TIMEOUT"
    return timed_out and below_asked(row.get("time_limit"), request_of_row(row))

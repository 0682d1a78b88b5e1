"""The gradient-boosted runtime predictor: features at submission, online retraining, last2 until trained.

Learning is online by construction: a job's feature row is frozen when it is predicted, and it joins the
training set only when its completion is observed. Training is delegated to a ``Trainer`` so that a shell
can run it off the scheduling path (hal.learn.trainer); the engine's own trainer fits synchronously.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hal.engine.api import Estimate
from hal.engine.predict.basic import LastTwo
from hal.engine.predict.features import CANDIDATES, FEATURES, MISSING, REQUEST, History, log_time
from hal.engine.predict.fingerprint import Fingerprint
from hal.engine.predict.trees import GbmConfig, Scores, compile_models, fit_boosters, params_of
from hal.model.job import JobSpec

UPPER_Q = 0.9  # quantile of log(observed / predicted) used for the upper estimate (start-time p90)
RESIDUALS = 2000  # recent residuals kept for that quantile
INPUTS: tuple[str, ...] = (*FEATURES, *(f"cand_{c}" for c in CANDIDATES), "request_or_default")
BASE = CANDIDATES.index("same_request_last")  # what ``regress`` mode predicts a correction to
# The candidates ``select`` mode scores (one booster each). The other two stay inputs: dropping last2 and the
# user's max of five as choices lost at most 0.002 accuracy on SDSC-SP2, CTC-SP2 and KTH-SP2, and a third of the
# boosters (training and per-job cost).
SELECTED: tuple[str, ...] = ("same_request_last", "same_limit_last", "request")
SELECT_INDEX: tuple[int, ...] = tuple(CANDIDATES.index(c) for c in SELECTED)


@dataclass(frozen=True, slots=True)
class Trained:
    """Fitted boosters: LightGBM text (what is saved) and compiled functions (what predicts)."""

    mode: str
    texts: tuple[str, ...]
    scores: Scores  # the boosters' raw scores, in one call
    samples: int


class Trainer(Protocol):
    """Fits models from snapshots; ``take`` never waits and returns each finished model once."""

    def submit(self, inputs: list[list[float]], targets: list[float], cfg: GbmConfig) -> None: ...

    def take(self) -> Trained | None: ...


def compile_trained(mode: str, texts: Sequence[str], samples: int) -> Trained:
    return Trained(mode, tuple(texts), compile_models(texts, INPUTS), samples)


def train(inputs: list[list[float]], targets: list[float], cfg: GbmConfig) -> Trained:
    """Fit the boosters of ``cfg.mode`` on (model input, log runtime over request) pairs."""
    k = len(FEATURES)
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if cfg.mode == "regress":
        texts = fit_boosters(x, [y - x[:, k + BASE]], params_of(cfg, cfg.objective), INPUTS, cfg.rounds)
    else:
        cols = []
        for c in SELECT_INDEX:
            d = x[:, k + c] - y  # candidate minus truth, log seconds
            cols.append(np.exp(-np.abs(d)) - np.where(d < 0, cfg.under_penalty, 0.0))
        texts = fit_boosters(x, cols, params_of(cfg, "l2"), INPUTS, cfg.rounds)
    return compile_trained(cfg.mode, texts, len(y))


@dataclass(slots=True)
class SyncTrainer:
    """Fits at once, on the caller's thread: deterministic, what simulations and tests use by default."""

    ready: Trained | None = None

    def submit(self, inputs: list[list[float]], targets: list[float], cfg: GbmConfig) -> None:
        self.ready = train(inputs, targets, cfg)

    def take(self) -> Trained | None:
        got, self.ready = self.ready, None
        return got


@dataclass(slots=True)
class GbmPredictor:
    """A learned prediction capped at the request; last2 (then the request) until a model exists."""

    cfg: GbmConfig = field(default_factory=GbmConfig)
    trainer: Trainer = field(default_factory=SyncTrainer)
    name: str = "gbm"
    history: History = field(default_factory=History)
    fallback: LastTwo = field(default_factory=LastTwo)
    model: Trained | None = None
    pending: dict[int, tuple[list[float], float | None]] = field(default_factory=dict)
    inputs: deque[list[float]] = field(default_factory=deque)
    targets: deque[float] = field(default_factory=deque)
    residuals: deque[float] = field(default_factory=lambda: deque(maxlen=RESIDUALS))
    upper_factor: float = math.e
    completions: int = 0
    next_train: int = 0
    seen: int = 0  # residuals observed
    learned_until: float = 0.0  # latest end time observed: a restart replays accounting records after it
    # every run observed (None: a model file too old to say), so a continued replay knows whether it learned a job
    learned: Fingerprint | None = field(default_factory=Fingerprint)

    def __post_init__(self) -> None:
        self.inputs = deque(maxlen=self.cfg.window)
        self.targets = deque(maxlen=self.cfg.window)
        if self.next_train == 0:
            self.next_train = self.cfg.warmup

    def input_of(self, job: JobSpec) -> list[float]:
        """Features and candidates (log seconds relative to the request) known now (nothing is recorded)."""
        row = self.history.row(job)
        limit = job.requested
        cands = History.candidates(row, limit)
        lreq = cands[-1]
        row += [c - lreq for c in cands]
        row.append(lreq)
        return row

    def current(self) -> Trained | None:
        """The model that plans the next job (None: last2 does), a fit the trainer has finished installed first:
        a live server's background fit ends between predictions, and what says which plans must not wait for one."""
        fresh = self.trainer.take()
        if fresh is not None:
            self.model = fresh
        return self.model

    def predict(self, job: JobSpec) -> Estimate:
        model = self.current()
        # A job predicted again (a restarted controller) keeps the input frozen at its submission: the row it is
        # learned from, and predicted from (it was predicted from runs that ended since, QA).
        frozen = self.pending.get(job.job_id)
        x = frozen[0] if frozen is not None else self.input_of(job)
        self.history.submitted(job)
        if model is None:
            self.pending.setdefault(job.job_id, (x, None))
            return self.fallback.predict(job)
        guess = self._guess(model, x)
        self.pending.setdefault(job.job_id, (x, guess))
        # Whole seconds, like limits: fractional predictions make fractional start times, and then
        # start + limit can round back onto the very instant a job is found overrunning (an endless
        # extension in the simulator); integer times add up exactly.
        value = float(math.ceil(max(math.exp(guess), 1.0)))
        limit = job.requested
        upper = float(math.ceil(value * self.upper_factor))
        if limit is not None:
            value, upper = min(value, limit), min(upper, limit)
        return Estimate(value, max(upper, value))

    @staticmethod
    def _guess(model: Trained, x: list[float]) -> float:
        """Log runtime: the best-scored candidate (select) or the corrected base candidate (regress)."""
        k = len(FEATURES)
        lreq = x[-1]
        if model.mode == "regress":
            guess = lreq + x[k + BASE] + model.scores(x)[0]
            return min(guess, lreq) if x[REQUEST] != MISSING else guess  # no request: nothing to cap at
        scores = model.scores(x)
        best = scores.index(max(scores))  # the first of equal scores, as a strict comparison would keep
        return lreq + x[k + SELECT_INDEX[best]]

    def on_request(self, job: JobSpec) -> bool:
        """Whether ``job``'s prediction rests on its request alone: no run of its user was learned before it was
        submitted, so last2 fell back on it or a model had only the request of the user to go on (a trained model
        predicted a new user's jobs at their 1-hour limit, and the forecaster's 10 s / 1 h errors then drew every
        later forecast of theirs 10 s ahead, QA)."""
        return job.job_id in self.pending and self.fallback.on_request(job)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        self.learned_until = max(self.learned_until, end_time)
        if self.learned is not None:
            self.learned.add(job, runtime)
        self.history.finished(job, runtime, end_time)
        self.fallback.observe(job, runtime, end_time)
        frozen = self.pending.pop(job.job_id, None)
        if frozen is None:  # submitted before this predictor existed (e.g. after a load): nothing to learn
            return
        x, guess = frozen
        target = log_time(runtime)
        if guess is not None:
            self._residual(target - guess)
        self.inputs.append(x)
        self.targets.append(target - x[-1])  # relative to the request, like the candidates
        self.completions += 1
        if self.completions >= self.next_train:
            self.next_train = self.completions + self.cfg.retrain_every
            if self.completions < self.cfg.early_retrain < self.next_train:  # replace the warm-up model sooner
                self.next_train = self.cfg.early_retrain
            self.trainer.submit(list(self.inputs), list(self.targets), self.cfg)

    def _residual(self, value: float) -> None:
        """Every 50 completions, the upper estimate's factor becomes the recent 90th percentile of real/predicted."""
        self.residuals.append(value)
        self.seen += 1
        n = len(self.residuals)
        if n >= 50 and self.seen % 50 == 0:
            k = int(UPPER_Q * (n - 1))  # the k-th smallest, found without sorting them all (a tenth of the cost)
            value = float(np.partition(np.fromiter(self.residuals, dtype=np.float64, count=n), k)[k])
            self.upper_factor = max(math.exp(value), 1.0)

    def forget(self, job_id: int) -> None:
        """A cancelled job never completes: drop its frozen input so it is not learned from, and stop counting
        it among its user's outstanding jobs (a feature)."""
        self.pending.pop(job_id, None)
        self.history.withdrawn(job_id)
        self.fallback.forget(job_id)

"""A model file keeps where its refit schedule stands, its fits and its origin, so a restart changes nothing about
when refits happen (QA: each one pushed the next a whole 10,000 completions on, so the live model stayed the 500-job
warm-up fit) and /metrics shows the loaded model's fit; a model trained offline on a trace, a FIFO, or an absurd
counter in meta.json is refused clearly (a FIFO blocked the start for good)."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hal.controller.directives import JobRequest
from hal.controller.jobs import new_row, request_json, spec_of
from hal.controller.learning import MODEL_FILE, LivePredictor, caught_up, fit_log, open_predictor, relearn
from hal.controller.learning import save_predictor as save_live
from hal.controller.store import Store, sqlite_url
from hal.engine.predict.gbm import INPUTS, GbmPredictor
from hal.engine.predict.trees import GbmConfig
from hal.learn.evaluate import History
from hal.learn.store import ModelFileError, load_model, save_model
from tests.unit.learn.test_model_meta_values import edited
from tests.unit.learn.test_models import trained

REQ = JobRequest(script="#!/bin/sh\nsleep 100\n", nodes=1, tasks=1, time_limit=3600.0)
NEW_FIELDS = ("next_train", "fits", "fitted_at", "origin")


@pytest.fixture(scope="module")
def from_trace(tmp_path_factory: pytest.TempPathFactory, sample_history: History) -> Path:
    """What `hal predict-eval TRACE --save-model` writes: a model that learned a trace on the trace's clock."""
    path = tmp_path_factory.mktemp("model") / "trace.zip"
    save_model(trained(sample_history), path)
    return path


def _site(home: Path, count: int) -> Store:
    """``count`` runs of about 100 s that ended in the last days, as the accounting table records them."""
    store = Store(sqlite_url(home / "hal.db"))
    stored, end = request_json(REQ, []), time.time() - 200_000.0
    with store.engine.begin() as conn:
        for jid in range(1, count + 1):
            start = end + 5.0
            end = start + 100.0 + jid % 3
            store.insert_jobs(conn, [new_row(jid, REQ, "ada", start - 5.0, None, stored)], start - 5.0, "submitted")
            store.update_job(conn, jid, {"state": "COMPLETED", "start_time": start, "end_time": end, "alloc_cpus": 1})
    return store


def _live_model(home: Path) -> LivePredictor:
    """A server's model after its warm-up fit on the first 500 of 600 runs, saved at shutdown."""
    store = _site(home, 600)
    live = open_predictor("gbm", None, home)
    assert relearn(live.predictor, store) == 600
    caught_up(live.predictor)
    store.close()
    assert save_live(live) == home / MODEL_FILE
    return live


def test_restarts_keep_the_refit_schedule_and_the_fits(tmp_path: Path) -> None:
    first = _live_model(tmp_path)
    pred, fits = first.predictor, fit_log(first.predictor)
    assert isinstance(pred, GbmPredictor) and fits is not None
    assert (pred.completions, pred.next_train, fits.fits) == (600, 2500, 1)  # the early refit comes at 2,500
    for _ in range(2):  # each restart (load, then save at shutdown) leaves it where it was
        again = open_predictor("gbm", None, tmp_path)
        assert again.warning is None and isinstance(again.predictor, GbmPredictor)
        assert again.predictor.next_train == 2500  # not 600 + 10,000
        told = fit_log(again.predictor)
        assert told is not None and (told.fits, told.last_fit) == (1, fits.last_fit)  # /metrics: not 0, "none yet"
        assert told.samples == 500 and "fitted on 500 at " in caught_up(again.predictor)
        assert save_live(again) is not None


def test_a_file_saved_before_the_schedule_was_kept_takes_it_from_the_schedule(tmp_path: Path) -> None:
    _live_model(tmp_path)
    path = tmp_path / MODEL_FILE
    edited(path, path, lambda meta: [meta.pop(k, None) for k in NEW_FIELDS])
    written = path.stat().st_mtime
    again = open_predictor("gbm", None, tmp_path)
    assert again.warning is None and isinstance(again.predictor, GbmPredictor)  # a live file (times after 2000)
    assert again.predictor.next_train == 2500
    told = fit_log(again.predictor)
    assert told is not None and (told.fits, told.last_fit) == (1, written)  # fitted by when it was written


@pytest.mark.parametrize(
    ("completions", "due", "fits"),
    [(500, 2500, 1), (2499, 2500, 1), (2500, 12500, 2), (12499, 12500, 2), (12500, 22500, 3), (40000, 42500, 5)],
)
def test_the_schedule_an_older_file_is_given(completions: int, due: int, fits: int) -> None:
    from hal.learn.provenance import fits_by, next_fit  # new: imported here so the other tests run on older code

    assert (next_fit(GbmConfig(), completions), fits_by(GbmConfig(), completions)) == (due, fits)
    regress = GbmConfig(mode="regress")  # no early refit: 500, then every 5,000
    assert next_fit(regress, completions) == 500 + 5000 * ((completions - 500) // 5000 + 1)


class _Count:
    """A trainer that only counts the fits asked of it."""

    def __init__(self) -> None:
        self.fits = 0

    def submit(self, inputs: list[list[float]], targets: list[float], cfg: GbmConfig) -> None:
        self.fits += 1

    def take(self) -> None:
        return None


def test_the_schedule_is_the_one_the_predictor_follows() -> None:
    from hal.learn.provenance import fits_by, next_fit

    for cfg in (GbmConfig(warmup=10, retrain_every=7, early_retrain=13), GbmConfig(warmup=10, retrain_every=7)):
        counted = _Count()
        pred = GbmPredictor(cfg, trainer=counted)
        for job in range(1, 80):
            pred.pending[job] = ([0.0] * len(INPUTS), None)
            pred.observe(spec_of(job, REQ, "ada", 0.0, ()), 5.0, float(job))
            assert pred.next_train == next_fit(cfg, pred.completions), (cfg, job)
            assert counted.fits == fits_by(cfg, pred.completions), (cfg, job)


def test_a_model_trained_on_a_trace_is_refused_by_a_server(tmp_path: Path, from_trace: Path) -> None:
    named = tmp_path / "m.zip"
    named.write_bytes(from_trace.read_bytes())
    with pytest.raises(ValueError, match=r"trained offline on a trace: it learned runs up to t=[\d,]+ s") as err:
        open_predictor("gbm", named, tmp_path)
    assert "start without --model" in str(err.value) and named.exists()  # left as it is
    older = edited(from_trace, tmp_path / "older.zip", lambda meta: meta.pop("origin"))  # its times tell
    with pytest.raises(ValueError, match="trained offline on a trace"):
        open_predictor("gbm", older, tmp_path)
    default = tmp_path / MODEL_FILE  # copied into the state folder: set aside, and relearned from the records
    default.write_bytes(from_trace.read_bytes())
    live = open_predictor("gbm", None, tmp_path)
    assert isinstance(live.predictor, GbmPredictor) and live.predictor.model is None
    assert live.predictor.learned_until == 0.0 and live.predictor.history.users == {}  # no trace users
    assert live.warning is not None and "trained offline on a trace" in live.warning
    assert not default.exists() and list(tmp_path.glob(f"{MODEL_FILE}.unusable-*"))
    assert load_model(from_trace).model is not None  # simulate and predict-eval still read it


def _unblocking(fifo: Path, call: Callable[[], object]) -> object:
    """``call``'s result (or error), failing the test instead of hanging when it blocks reading the FIFO."""
    got: list[object] = []

    def run() -> None:
        try:
            got.append(call())
        except Exception as exc:
            got.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10.0)
    if worker.is_alive():  # a writer that closes at once lets the blocked reader go on
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(10.0)
        pytest.fail(f"reading {fifo} blocked until a writer came")
    return got[0]


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "m.zip"
    os.mkfifo(fifo)
    got = _unblocking(fifo, lambda: open_predictor("gbm", fifo, tmp_path))
    assert isinstance(got, ValueError) and "a FIFO or a device, not a regular file" in str(got) and fifo.exists()
    got = _unblocking(fifo, lambda: load_model(fifo))  # hal simulate and predict-eval --model
    assert isinstance(got, ModelFileError) and "is a FIFO (named pipe), not a regular file" in str(got)
    default = tmp_path / "home" / MODEL_FILE
    default.parent.mkdir()
    os.mkfifo(default)
    live = _unblocking(default, lambda: open_predictor("gbm", None, default.parent))
    assert isinstance(live, LivePredictor) and live.warning is not None and "FIFO" in live.warning
    assert not default.exists() and list(default.parent.glob(f"{MODEL_FILE}.unusable-*"))  # set aside


def test_a_folder_at_the_state_folders_model_path_is_set_aside_as_a_damaged_file_is(tmp_path: Path) -> None:
    """It stopped the server ("not a writable file path"); a --model folder is still refused."""
    (tmp_path / MODEL_FILE).mkdir()
    live = open_predictor("gbm", None, tmp_path)
    assert (
        live.warning is not None and f"{tmp_path / MODEL_FILE} is a folder, not a model file; moved to" in live.warning
    )
    assert not (tmp_path / MODEL_FILE).exists() and list(tmp_path.glob(f"{MODEL_FILE}.unusable-*"))
    (tmp_path / "named.zip").mkdir()
    with pytest.raises(ValueError, match="not a writable file path"):
        open_predictor("gbm", tmp_path / "named.zip", tmp_path)


def _set(**values: object) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.update(values)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set(completions=1e30), r"completions holds 1000000000000000019884624838656, not a count"),
        (_set(seen=10**15), "seen holds"),
        (_set(completions=3), "completions 3 is fewer than the runs its window and model hold"),
        (_set(next_train=10**9), "next_train 1000000000 is not within retrain_every"),
        (_set(fits=0), "fits 0 out of range"),
        (_set(fitted_at=math.inf), "fitted_at holds inf"),
        (_set(origin="mars"), "origin 'mars'"),
    ],
)
def test_absurd_counters_are_refused_and_the_file_set_aside(
    tmp_path: Path, from_trace: Path, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    bad = edited(from_trace, tmp_path / MODEL_FILE, change)
    with pytest.raises(ModelFileError, match=rf"the model inside is damaged \({reason}"):
        load_model(bad)
    live = open_predictor("gbm", None, tmp_path)
    assert live.warning is not None and reason.split()[0] in live.warning and not bad.exists()

"""QA: a model trained on one trace, continued with --window on another, took that trace's earlier jobs as learned
(both clocks start near 0) and never fed them: 0.484 against 0.586 without the model. A model now records which runs
it learned, and only the very jobs it learned are skipped."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from hal.engine.predict.fingerprint import Fingerprint
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate, reach_of
from hal.learn.store import load_model, save_model
from tests.unit.learn.conftest import SMALL

FIRST = (0, 1500)
REST = (1500, 1000)


def other_trace(history: History) -> History:
    """Another trace on the same clock: the same times, other users."""
    jobs = [replace(j, user=f"x{j.user}") for j in history.jobs]
    return History(jobs, history.ends.copy())


def saved_first(history: History, path: Path) -> Path:
    pred = GbmPredictor(SMALL)
    evaluate(history, pred, "kth", FIRST, to_save=True)
    save_model(pred, path)
    return path


def test_another_traces_earlier_jobs_are_fed_to_the_model(sample_history: History, tmp_path: Path) -> None:
    path = saved_first(sample_history, tmp_path / "m.zip")
    other = other_trace(sample_history)
    loaded = load_model(path)
    ev = evaluate(other, loaded, "other", REST, reach=reach_of(loaded))
    assert ev.already_learned == 0 and ev.other_jobs == 1500  # 1,454 were thrown away
    fresh = load_model(path)
    fresh.pending.clear()  # the other trace's running jobs: their ids are this trace's
    fed = evaluate(other, fresh, "other", REST)  # every earlier job learned, as a run without a model
    np.testing.assert_array_equal(ev.predictions, fed.predictions)


def test_the_same_trace_still_skips_what_the_model_learned(sample_history: History, tmp_path: Path) -> None:
    path = saved_first(sample_history, tmp_path / "m.zip")
    loaded = load_model(path)
    assert loaded.learned is not None and loaded.learned.jobs == loaded.completions
    learned = loaded.learned.jobs
    ev = evaluate(sample_history, loaded, "kth", REST, reach=reach_of(loaded))
    assert ev.already_learned == learned
    assert ev.other_jobs == 0 and not ev.by_times


def test_a_model_continued_and_saved_again_still_matches(sample_history: History, tmp_path: Path) -> None:
    """The fingerprint is order-free: the runs of the first file and of the continued run add up."""
    first = load_model(saved_first(sample_history, tmp_path / "m1.zip"))
    evaluate(sample_history, first, "kth", (1500, 1000), reach=reach_of(first), to_save=True)
    save_model(first, tmp_path / "m2.zip")
    second = load_model(tmp_path / "m2.zip")
    learned = second.completions
    ev = evaluate(sample_history, second, "kth", (2500, 500), reach=reach_of(second))
    assert ev.other_jobs == 0 and ev.already_learned == learned
    single = evaluate(sample_history, GbmPredictor(SMALL), "kth", (2500, 500))
    np.testing.assert_array_equal(ev.predictions, single.predictions)


def test_an_older_file_without_a_fingerprint_is_matched_by_times(sample_history: History, tmp_path: Path) -> None:
    path = saved_first(sample_history, tmp_path / "m.zip")
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "meta.json":
                meta = json.loads(data)
                del meta["learned_jobs"]
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    loaded = load_model(old)
    assert loaded.learned is None
    ev = evaluate(other_trace(sample_history), loaded, "other", REST, reach=reach_of(loaded))
    assert ev.by_times and ev.already_learned > 0 and ev.other_jobs == 0  # as before: the file cannot tell


def test_the_fingerprint_survives_a_save(tmp_path: Path, sample_history: History) -> None:
    pred = GbmPredictor(SMALL)
    evaluate(sample_history, pred, "kth", FIRST, to_save=True)
    save_model(pred, tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    assert loaded.learned == pred.learned != Fingerprint()

"""Compiled boosters agree with LightGBM; model files round-trip, and bad ones fail clearly to last2."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hal.engine.predict.basic import LastTwo
from hal.engine.predict.features import CANDIDATES, FEATURES
from hal.engine.predict.gbm import SELECTED, GbmPredictor
from hal.engine.predict.trees import (
    EARLY_RETRAIN,
    MODE_DEFAULTS,
    TUNED,
    GbmConfig,
    compile_model,
    fit_boosters,
    params_of,
)
from hal.learn.evaluate import History, evaluate
from hal.learn.store import ModelFileError, load_model, load_or_fallback, save_model
from hal.learn.trainer import BackgroundTrainer
from tests.unit.learn.conftest import SMALL


def test_compiled_model_matches_lightgbm() -> None:
    import lightgbm

    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 4))
    y = x[:, 0] * 2 + np.where(x[:, 1] > 0, 1.0, -1.0)
    names = ["a", "b", "c", "d"]
    (text,) = fit_boosters(x, [y], params_of(SMALL, "l2"), names, 20)
    fn = compile_model(text, names)
    ref = lightgbm.Booster(model_str=text).predict(x[:200])
    got = np.array([fn(list(row)) for row in x[:200]])
    assert np.allclose(got, ref, atol=1e-9)
    with pytest.raises(ValueError, match="differ"):
        compile_model(text, ["w", "x", "y", "z"])


def trained(history: History) -> GbmPredictor:
    pred = GbmPredictor(SMALL)
    part = History(history.jobs[:1500], history.ends[:1500])
    evaluate(part, pred)
    assert pred.model is not None
    return pred


def test_save_and_load_give_the_same_predictions(tmp_path: Path, sample_history: History) -> None:
    pred = trained(sample_history)
    path = tmp_path / "model.hal"
    old = os.umask(0o022)
    try:
        save_model(pred, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # QA: it holds users' names and runtimes; it was 0644
    loaded = load_model(path)
    assert not any(u.outstanding or u.outstanding_procs for u in loaded.history.users.values())
    for spec in sample_history.jobs[1500:1600]:
        assert loaded.predict(spec) == pred.predict(spec)
    assert len(loaded.inputs) == len(pred.inputs)
    # The p90 spread (residuals) survives, so a restarted server does not narrow its p90s to a few new errors;
    # outstanding counts restart at zero, since a restarted controller submits its queued jobs again.
    assert list(loaded.residuals) == list(pred.residuals) and loaded.seen == pred.seen > 0
    assert loaded.upper_factor == pred.upper_factor


def test_a_save_that_fails_keeps_the_model_that_was_there(
    tmp_path: Path, sample_history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It wrote into the file itself: a full disk left a truncated zip where a good model had been."""
    pred = trained(sample_history)
    path = tmp_path / "model.hal"
    save_model(pred, path)
    before = path.read_bytes()

    def full(self: zipfile.ZipFile, name: str, data: str | bytes, *a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    with pytest.raises(ModelFileError, match=f"cannot write the model to {path}: No space left on device"):
        save_model(pred, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.hal"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "version", "booster", "half", "selected", "missing"])
def test_bad_model_files_fail_clearly_and_fall_back(tmp_path: Path, sample_history: History, damage: str) -> None:
    path = tmp_path / "model.hal"
    if damage != "missing":
        save_model(trained(sample_history), path)
    if damage == "garbage":
        path.write_bytes(b"not a model at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage in ("version", "booster", "half", "selected"):
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        if damage == "version":
            parts["meta.json"] = parts["meta.json"].replace(b'"version": 2', b'"version": 99')
        elif damage == "selected":  # made by a HAL that chose among other candidates: its boosters mean other things
            parts["meta.json"] = parts["meta.json"].replace(b'"selected": ["', b'"selected": ["user_last", "')
        elif damage == "half":  # QA: half a tree text in a valid zip aborted the process inside LightGBM
            parts["booster_0.txt"] = parts["booster_0.txt"][: len(parts["booster_0.txt"]) // 2]
        else:
            parts["booster_0.txt"] = b"tree\nnonsense=1\n"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(path) in str(info.value)
    pred, warning = load_or_fallback(path)
    assert isinstance(pred, LastTwo)
    assert warning is not None and "last2" in warning


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ({"learned_until": None}, "damaged"),
        ({"completions": "abc"}, "damaged"),
        ({"upper_factor": "x"}, "damaged"),
        ({"upper_factor": float("nan")}, "upper_factor must be a finite number"),  # failed every submission
        ({"upper_factor": float("inf")}, "upper_factor must be a finite number"),
        ({"upper_factor": 0.5}, "upper_factor must be a finite number >= 1"),
        ({"completions": -3}, "completions holds -3, not a count"),
        ({"boosters": 0}, "holds 0 boosters"),
        ({"boosters": 1}, "holds 1 boosters"),
        ({"mode": "other"}, "unknown model mode"),
        ({"history": {"users": 5}}, "damaged"),
        ([1, 2], "not an object"),
    ],
)
def test_damaged_meta_fields_are_refused_not_crashed_on(
    tmp_path: Path, sample_history: History, meta: dict[str, object] | list[int], reason: str
) -> None:
    """Every field of meta.json is checked when the file is read, so a bad one cannot fail later, mid-schedule."""
    path = tmp_path / "model.hal"
    save_model(trained(sample_history), path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    old = json.loads(parts["meta.json"])
    parts["meta.json"] = json.dumps({**old, **meta} if isinstance(meta, dict) else meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=reason):
        load_model(path)
    assert isinstance(load_or_fallback(path)[0], LastTwo)


def test_a_damaged_training_window_is_named(tmp_path: Path, sample_history: History) -> None:
    path = tmp_path / "model.hal"
    save_model(trained(sample_history), path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["window.npz"] = b"\x00" * 64
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"window\.npz"):
        load_model(path)


def test_background_trainer_is_reproducible_and_does_not_block(sample_history: History) -> None:
    runs = []
    for _ in range(2):
        trainer = BackgroundTrainer(deterministic=True)
        runs.append(evaluate(sample_history, GbmPredictor(SMALL, trainer)).predictions)
        trainer.join()
        assert trainer.fits >= 3 and trainer.error is None
    assert np.array_equal(runs[0], runs[1])
    live = BackgroundTrainer()
    pred = trained(sample_history)
    live.submit(list(pred.inputs), list(pred.targets), SMALL)
    assert live.take() is None or live.fits == 1  # submit returned before (or just as) the fit ended
    live.join()
    assert live.take() is not None


def test_settings_default_by_mode_and_explicit_ones_are_kept() -> None:
    select, regress = GbmConfig(), GbmConfig(mode="regress")
    for cfg in (select, regress):
        assert tuple(getattr(cfg, name) for name in TUNED) == MODE_DEFAULTS[cfg.mode]
        assert cfg.early_retrain == EARLY_RETRAIN[cfg.mode]
    mine = GbmConfig(rounds=7, learning_rate=0.05, feature_fraction=0.8)
    assert (mine.rounds, mine.learning_rate, mine.feature_fraction) == (7, 0.05, 0.8)
    with pytest.raises(ValueError, match="feature_fraction"):
        GbmConfig(feature_fraction=1.5)


def test_select_scores_each_selected_candidate_and_predicts_one_of_them(sample_history: History) -> None:
    pred = trained(sample_history)
    assert pred.model is not None and len(pred.model.texts) == len(SELECTED)
    k = len(FEATURES)
    for spec in sample_history.jobs[1500:1550]:
        x = pred.input_of(spec)
        guess = GbmPredictor._guess(pred.model, x)
        assert any(abs(guess - (x[-1] + x[k + CANDIDATES.index(c)])) < 1e-12 for c in SELECTED)


@pytest.mark.parametrize(("early", "fits"), [(500, 4), (0, 3)])
def test_one_early_retraining_replaces_the_warm_up_model(sample_history: History, early: int, fits: int) -> None:
    cfg = GbmConfig(warmup=200, retrain_every=1000, window=2000, rounds=5, early_retrain=early)
    trainer = BackgroundTrainer(deterministic=True)
    evaluate(sample_history, GbmPredictor(cfg, trainer))  # 3,000 completions: at 200, (500,) 1,200 or 1,500, ...
    trainer.join()
    assert trainer.fits == fits


def test_a_job_running_when_the_model_was_saved_is_learned_when_it_ends(
    tmp_path: Path, sample_history: History
) -> None:
    """Its input frozen at submission is saved with the model: a restarted server that hears of its end learns
    from it (it was counted as relearned but dropped)."""
    from dataclasses import replace

    pred = trained(sample_history)
    job = replace(sample_history.jobs[0], job_id=10**7, submit_time=1e9)
    pred.predict(job)
    save_model(pred, tmp_path / "m.hal")
    loaded = load_model(tmp_path / "m.hal")
    assert loaded.pending[job.job_id] == pred.pending[job.job_id]
    before = loaded.completions
    loaded.observe(job, 120.0, 1e9 + 500)
    assert loaded.completions == before + 1 and job.job_id not in loaded.pending

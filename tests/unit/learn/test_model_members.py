"""A zip without a model's members is named in plain words, not zipfile's ("(missing There is no item named
'meta.json' in the archive)", QA)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate
from hal.learn.store import ModelFileError, load_model, load_or_fallback, save_model
from tests.unit.learn.conftest import SMALL


def test_a_zip_without_meta_json_is_not_a_hal_model(tmp_path: Path) -> None:
    path = tmp_path / "wrong.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "some other archive")
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path} is not a HAL model: meta.json missing from the archive"
    assert load_or_fallback(path)[1] == f"{info.value}; falling back to last2 predictions"


def test_a_model_without_one_of_its_members_names_it(tmp_path: Path, sample_history: History) -> None:
    pred = GbmPredictor(SMALL)
    evaluate(History(sample_history.jobs[:800], sample_history.ends[:800]), pred)
    path = tmp_path / "model.hal"
    save_model(pred, path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if n != "window.npz"}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: window.npz missing from the archive (an incomplete HAL model file)"

"""meta.json carries no checksum: values no run or clock can have are refused as a damaged model file, and so is a
model that learned past this host's clock (a restart would never relearn again); the controller sets such a file
aside and learns anew from the accounting records."""

from __future__ import annotations

import json
import math
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hal.controller.learning import open_predictor
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History
from hal.learn.store import CLOCK_SLACK, ModelFileError, load_model, save_model
from tests.unit.learn.test_models import trained


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, sample_history: History) -> Path:
    path = tmp_path_factory.mktemp("model") / "good.zip"
    save_model(trained(sample_history), path)
    return path


def edited(good: Path, to: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """The good file with its meta.json changed (the members it checksums untouched)."""
    with zipfile.ZipFile(good) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(parts["meta.json"])
    change(meta)
    parts["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(to, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return to


def test_a_model_learned_past_this_hosts_clock_is_refused(tmp_path: Path, good: Path) -> None:
    until = load_model(good).learned_until
    assert until > 0
    with pytest.raises(ModelFileError, match="past this host's clock"):
        load_model(good, now=until - CLOCK_SLACK - 60.0)
    assert load_model(good, now=until - CLOCK_SLACK + 60.0).learned_until == until  # a host a little behind
    assert load_model(good).learned_until == until  # no clock given (simulations, predict-eval): no check


def test_the_controller_sets_a_model_from_the_future_aside_and_learns_anew(tmp_path: Path, good: Path) -> None:
    ahead = edited(good, tmp_path / "model.zip", lambda m: m.update(learned_until=time.time() + 86_400.0))
    live = open_predictor("gbm", ahead, tmp_path)
    assert isinstance(live.predictor, GbmPredictor) and live.predictor.model is None
    assert live.predictor.learned_until == 0.0  # so the relearn reads every record
    assert live.warning is not None and "past this host's clock" in live.warning and str(ahead) in live.warning
    assert "at once if they hold 500 learnable runs" in live.warning and "last2 until then" in live.warning
    (aside,) = tmp_path.glob("model.zip.unusable-*")
    assert not ahead.exists() and aside.exists()


def _set(path: list[Any], value: object) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        node: Any = meta["history"]
        for key in path[:-1]:
            node = node[key] if not isinstance(key, str) or key != "*" else next(iter(node.values()))
        node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["users", "*", "last_end"], math.nan, "last_end"),
        (["users", "*", "last_submit"], 1e308, "last_submit"),
        (["users", "*", "completed"], -3, "completed"),
        (["users", "*", "runs", 0], [-5.0, 3600.0], "runs"),
        (["users", "*", "runs", 0], [5.0, math.inf], "runs"),
        (["same_limit", 0], ["u", 3600.0, math.nan], "same_limit"),
        (["recent", 0], 1e308, "recent"),
    ],
)
def test_damaged_history_values_are_refused_naming_the_field(
    tmp_path: Path, good: Path, path: list[Any], value: object, field: str
) -> None:
    bad = edited(good, tmp_path / "bad.zip", _set(path, value))
    with pytest.raises(ModelFileError, match=rf"{bad}: the model inside is damaged \(history\.\S*{field}"):
        load_model(bad)


def test_a_run_without_a_request_keeps_its_minus_one(tmp_path: Path, good: Path) -> None:
    fine = edited(good, tmp_path / "fine.zip", _set(["users", "*", "runs", 0], [5.0, -1.0]))
    (user, state), *_ = load_model(fine).history.users.items()
    assert user and state.runs[0] == (5.0, -1.0)

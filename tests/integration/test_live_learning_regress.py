"""gbm-regress as a live server's predictor: learned from the accounting records, saved to its own model file and
loaded back as gbm-regress (not as gbm), and a model file of the other learner refused or set aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.jobs import spec_of
from hal.controller.learning import MODEL_FILE, open_predictor, relearn, save_predictor
from hal.controller.store import Store, sqlite_url
from hal.engine.predict.gbm import GbmPredictor
from tests.integration.test_live_learning import RUN_S, fill_history, whole_machine

REGRESS_FILE = "runtime-model-gbm-regress.zip"


def test_gbm_regress_learns_saves_and_reloads_as_itself(tmp_path: Path) -> None:
    db = tmp_path / "hal.db"
    last = fill_history(db, "ada", 600)
    store = Store(sqlite_url(db))
    live = open_predictor("gbm-regress", None, tmp_path)
    pred = live.predictor
    assert isinstance(pred, GbmPredictor) and pred.name == "gbm-regress" and pred.cfg.mode == "regress"
    assert live.path == tmp_path / REGRESS_FILE  # its own file: gbm's is left for gbm
    assert relearn(pred, store) == 600
    assert save_predictor(live) == tmp_path / REGRESS_FILE and not (tmp_path / MODEL_FILE).exists()
    again = open_predictor("gbm-regress", None, tmp_path)
    back = again.predictor
    assert isinstance(back, GbmPredictor) and again.warning is None and back.model is not None
    assert (back.name, back.cfg.mode, back.cfg.alpha) == ("gbm-regress", "regress", 0.4)
    assert back.learned_until == last and relearn(back, store) == 0
    guess = back.predict(spec_of(10_000, whole_machine(), "ada", last + 10.0, ()))
    assert RUN_S / 2 <= guess.point < 4 * RUN_S  # learned, not the 3,600 s request
    store.close()


def test_a_model_of_the_other_learner_is_refused_or_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "hal.db"
    fill_history(db, "ada", 600)
    store = Store(sqlite_url(db))
    live = open_predictor("gbm", None, tmp_path)
    relearn(live.predictor, store)
    store.close()
    saved = save_predictor(live)
    assert saved == tmp_path / MODEL_FILE
    with pytest.raises(ValueError, match="holds a gbm model, not gbm-regress: use --estimate gbm"):
        open_predictor("gbm-regress", saved, tmp_path)  # named: refused, left as it is
    assert saved.exists()
    (tmp_path / REGRESS_FILE).write_bytes(saved.read_bytes())  # the default file of the other learner
    other = open_predictor("gbm-regress", None, tmp_path)
    assert isinstance(other.predictor, GbmPredictor) and other.predictor.name == "gbm-regress"
    assert other.warning is not None and "holds a gbm model, not gbm-regress" in other.warning
    assert list(tmp_path.glob(f"{REGRESS_FILE}.unusable-*")) and saved.exists()

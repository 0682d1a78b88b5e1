"""One test of "a gbm that never fitted" behind both the stderr note (sim/runner.py) and the JSON ``fallback``
(cli/sim_json.py): the two were written twice (review), and one changed alone would let them disagree."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hal.cli.sim_json import never_fitted
from hal.engine.predict.registry import make_predictor
from hal.sim.fallback import unfitted_gbm
from hal.sim.runner import unfitted_note


def test_the_note_and_the_json_agree_on_one_predicate() -> None:
    gbm: Any = make_predictor("gbm")
    assert unfitted_gbm(gbm) is gbm and gbm.model is None
    assert never_fitted(gbm) and unfitted_note(SimpleNamespace(predictor=gbm), "gbm")  # type: ignore[arg-type]
    gbm.model = object()  # fitted
    assert unfitted_gbm(gbm) is None and never_fitted(gbm) is None
    assert unfitted_note(SimpleNamespace(predictor=gbm), "gbm") is None  # type: ignore[arg-type]
    user = make_predictor("user")
    assert unfitted_gbm(user) is None and never_fitted(user) is None

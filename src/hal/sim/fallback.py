"""Whether a run's gbm never fitted a model, so every prediction was last2's though the run says gbm: the one test
behind `hal simulate`'s and `hal compare`'s stderr note (sim/runner.py) and the JSON outputs' ``fallback``
(cli/sim_json.py). A module of its own so the JSON side does not import the whole runner."""

from __future__ import annotations

from hal.engine.predict.gbm import GbmPredictor


def unfitted_gbm(predictor: object) -> GbmPredictor | None:
    """``predictor`` when it is a gbm that never fitted a model, else None."""
    return predictor if isinstance(predictor, GbmPredictor) and predictor.model is None else None

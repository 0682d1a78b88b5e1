"""Predictors by name, so profiles and the CLI can choose one."""

from __future__ import annotations

from collections.abc import Callable

from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import Clairvoyant, LastTwo, UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.trees import GbmConfig

PREDICTORS: dict[str, Callable[[], RuntimePredictor]] = {
    "user": UserEstimate,
    "actual": Clairvoyant,
    "last2": LastTwo,
    "gbm": GbmPredictor,
    # One booster correcting the same-request candidate to its median: cheaper, and it packed KTH-SP2 tighter.
    "gbm-regress": lambda: GbmPredictor(GbmConfig(mode="regress", alpha=0.5), name="gbm-regress"),
}


def make_predictor(name: str) -> RuntimePredictor:
    try:
        factory = PREDICTORS[name]
    except KeyError:
        raise ValueError(f"unknown estimate {name!r}; choose one of {sorted(PREDICTORS)}") from None
    return factory()

"""Predictors by name, so profiles and the CLI can choose one."""

from __future__ import annotations

from collections.abc import Callable

from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import Clairvoyant, LastTwo, UserEstimate
from hal.engine.predict.gbm import GbmPredictor

PREDICTORS: dict[str, Callable[[], RuntimePredictor]] = {
    "user": UserEstimate,
    "actual": Clairvoyant,
    "last2": LastTwo,
    "gbm": GbmPredictor,
}


def make_predictor(name: str) -> RuntimePredictor:
    try:
        factory = PREDICTORS[name]
    except KeyError:
        raise ValueError(f"unknown estimate {name!r}; choose one of {sorted(PREDICTORS)}") from None
    return factory()

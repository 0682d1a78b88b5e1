"""Predictors by name, so profiles and the CLI can choose one."""

from __future__ import annotations

from collections.abc import Callable

from hal.engine.api import RuntimePredictor
from hal.engine.predict.basic import Clairvoyant, LastTwo, UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.trees import GbmConfig

# The learned predictors' settings, shared by the simulator's tools and the live server (hal.controller.learning).
# gbm-regress: one booster correcting the same-request candidate; the 0.4 quantile leans short, which packed
# EASY-SJBF tightest on SDSC-SP2, KTH-SP2 and CTC-SP2 (benchmarks/predict_alpha_sweep.py); cheaper than gbm.
GBM_CONFIGS = {"gbm": GbmConfig(), "gbm-regress": GbmConfig(mode="regress", alpha=0.4)}
PREDICTORS: dict[str, Callable[[], RuntimePredictor]] = {
    "user": UserEstimate,
    "actual": Clairvoyant,
    "last2": LastTwo,
    "gbm": GbmPredictor,
    "gbm-regress": lambda: GbmPredictor(GBM_CONFIGS["gbm-regress"], name="gbm-regress"),
}
GBM_NAMES = tuple(GBM_CONFIGS)  # the learned predictors: they take settings and model files


def make_predictor(name: str) -> RuntimePredictor:
    try:
        factory = PREDICTORS[name]
    except KeyError:
        raise ValueError(f"unknown estimate {name!r}; choose one of {sorted(PREDICTORS)}") from None
    return factory()

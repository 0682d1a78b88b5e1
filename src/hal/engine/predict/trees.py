"""Fitting gradient-boosted trees and turning them into plain Python functions that cost microseconds.

LightGBM's own ``predict`` costs about a millisecond per row from Python, too slow to call at every
submission of a 250,000-job replay; a model compiled to nested comparisons costs a few microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Model = Callable[[Sequence[float]], float]
MODES = ("select", "regress")
OBJECTIVES = ("quantile", "l1", "l2")


@dataclass(frozen=True, slots=True)
class GbmConfig:
    """Model and retraining settings.

    ``select`` fits one model per candidate (the user's last runtime, last2, the last run with the same
    request, ...) that predicts how accurate that candidate will be, and predicts with the best one;
    ``under_penalty`` > 0 scores candidates that would under-predict lower (the asymmetric option).
    ``regress`` fits the log ratio of the runtime to the same-request candidate with ``objective``
    (``quantile`` at ``alpha`` > 0.5 leans long). Under-prediction costs backfilling more than
    over-prediction: a job that overruns its slot delays the reserved head.
    """

    mode: str = "select"
    objective: str = "quantile"
    alpha: float = 0.6
    under_penalty: float = 0.1
    rounds: int = 30
    leaves: int = 15
    learning_rate: float = 0.15
    min_leaf: int = 20
    warmup: int = 500  # completions before the first model; until then the fallback (last2) predicts
    retrain_every: int = 5000  # completions between retrainings
    window: int = 10000  # most recent completions trained on (more costs time and did not help accuracy)
    seed: int = 1

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown gbm mode {self.mode!r}; choose one of {list(MODES)}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; choose one of {list(OBJECTIVES)}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError("alpha must be in (0, 1)")
        if self.warmup < 10 or self.retrain_every < 1 or self.window < self.warmup:
            raise ValueError("need warmup >= 10, retrain_every >= 1 and window >= warmup")


def params_of(cfg: GbmConfig, objective: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "objective": objective,
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.leaves,
        "min_data_in_leaf": cfg.min_leaf,
        "max_bin": 63,
        "num_threads": 1,  # deterministic, and leaves the other core to the scheduler
        "deterministic": True,
        "seed": cfg.seed,
        "verbose": -1,
        "bagging_fraction": 0.5,  # half the rows per tree: half the cost, little loss
        "bagging_freq": 1,
        "feature_pre_filter": False,
    }
    if objective == "quantile":
        params["alpha"] = cfg.alpha
    return params


def fit_boosters(
    rows: npt.NDArray[np.float64],
    targets: Sequence[npt.NDArray[np.float64]],
    params: dict[str, Any],
    names: Sequence[str],
    rounds: int,
) -> list[str]:
    """One booster per target column over the same rows (binned once); LightGBM's text format each."""
    import lightgbm

    data = lightgbm.Dataset(rows, targets[0], feature_name=list(names), categorical_feature=[], params=params)
    data.construct()
    texts = []
    for y in targets:
        data.set_label(y)
        booster = lightgbm.train(params, data, num_boost_round=rounds)
        texts.append(booster.model_to_string())
    return texts


def compile_model(model_text: str, names: Sequence[str]) -> Model:
    """The booster as one generated Python function of a feature row (its raw score)."""
    import lightgbm

    dump = lightgbm.Booster(model_str=model_text).dump_model()
    got = list(dump.get("feature_names", []))
    if got != list(names):
        raise ValueError(f"model features {got} differ from this version's {list(names)}")
    lines = ["def model(x):", "    s = 0.0"]
    for tree in dump["tree_info"]:
        _emit(tree["tree_structure"], lines, 1)
    lines.append("    return s")
    scope: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<gbm-model>", "exec"), scope)  # source built from numbers only
    fn: Model = scope["model"]
    return fn


def _emit(node: dict[str, Any], lines: list[str], depth: int) -> None:
    pad = "    " * depth
    if "leaf_value" in node:
        lines.append(f"{pad}s += {float(node['leaf_value'])!r}")
        return
    if node["decision_type"] != "<=":
        raise ValueError(f"unsupported split {node['decision_type']!r}")
    lines.append(f"{pad}if x[{int(node['split_feature'])}] <= {float(node['threshold'])!r}:")
    _emit(node["left_child"], lines, depth + 1)
    lines.append(f"{pad}else:")
    _emit(node["right_child"], lines, depth + 1)

"""Fitting gradient-boosted trees and turning them into plain Python functions that cost microseconds.

LightGBM's own ``predict`` costs about a millisecond per row from Python, too slow to call at every
submission of a 250,000-job replay; a model compiled to nested comparisons costs a few microseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.engine.predict.treetext import parse_trees

Model = Callable[[Sequence[float]], float]
Scores = Callable[[Sequence[float]], list[float]]
MODES = ("select", "regress")
OBJECTIVES = ("quantile", "l1", "l2")
# Rounds, learning rate, leaves, share of features per tree and completions between retrainings, by mode.
# ``select`` trains one booster per candidate: 20 rounds at 0.2 on half the features scored within 0.003 accuracy
# of 30 rounds at 0.15 on all of them (SDSC-SP2, CTC-SP2, KTH-SP2) for under half the training time; retraining
# every 10,000 completions instead of 5,000 cost 0.001-0.007 accuracy and took a whole-trace simulation from
# about 3.7x to 3x the cost of one on user estimates; 7 leaves instead of 15 moved accuracy by -0.003 to +0.002
# and made each prediction cheaper; one early retraining at 2,500 completions replaces the model fitted on the
# first 500 (it predicted until 10,500) and gained up to 0.005 (benchmarks/results/learning.md). ``regress``
# keeps the settings its quantile was tuned with.
TUNED = ("rounds", "learning_rate", "leaves", "feature_fraction", "retrain_every")
MODE_DEFAULTS: dict[str, tuple[int, float, int, float, int]] = {
    "select": (20, 0.2, 7, 0.5, 10000),
    "regress": (30, 0.15, 15, 1.0, 5000),
}
EARLY_RETRAIN: dict[str, int] = {"select": 2500, "regress": 0}


@dataclass(frozen=True, slots=True)
class GbmConfig:
    """Model and retraining settings.

    ``select`` fits one model per candidate (the user's last run with the same request and processors, the
    last with the same request, the request itself) that predicts how accurate that candidate will be, and
    predicts with the best one;
    ``under_penalty`` > 0 scores candidates that would under-predict lower (the asymmetric option).
    ``regress`` fits the log ratio of the runtime to the same-request candidate with ``objective``
    (``quantile`` at ``alpha`` > 0.5 leans long). Under-prediction costs backfilling more than
    over-prediction: a job that overruns its slot delays the reserved head.
    """

    mode: str = "select"
    objective: str = "quantile"
    alpha: float = 0.6
    under_penalty: float = 0.1
    rounds: int = 0  # 0: the mode's default (MODE_DEFAULTS)
    leaves: int = 0  # 0: the mode's default
    learning_rate: float = 0.0  # 0: the mode's default
    feature_fraction: float = 0.0  # 0: the mode's default
    min_leaf: int = 20
    warmup: int = 500  # completions before the first model; until then the fallback (last2) predicts
    retrain_every: int = 0  # completions between retrainings; 0: the mode's default
    early_retrain: int = -1  # one extra retraining at this many completions (0: none; -1: the mode's default)
    window: int = 10000  # most recent completions trained on (more costs time and did not help accuracy)
    seed: int = 1

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown gbm mode {self.mode!r}; choose one of {list(MODES)}")
        for name, default in zip(TUNED, MODE_DEFAULTS[self.mode], strict=True):
            if getattr(self, name) == 0:
                object.__setattr__(self, name, type(default)(default))
        if self.early_retrain < 0:
            object.__setattr__(self, "early_retrain", EARLY_RETRAIN[self.mode])
        for name in ("alpha", "under_penalty", "learning_rate", "feature_fraction"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, not {getattr(self, name)!r}")
        if self.rounds < 1 or self.leaves < 2 or self.learning_rate <= 0.0 or not 0.0 < self.feature_fraction <= 1.0:
            raise ValueError("need rounds >= 1, leaves >= 2, learning_rate > 0 and feature_fraction in (0, 1]")
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
        "feature_fraction": cfg.feature_fraction,
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
    """One booster as a generated Python function of a feature row (its raw score)."""
    joint = compile_models([model_text], names)
    return lambda x: joint(x)[0]


def compile_models(model_texts: Sequence[str], names: Sequence[str]) -> Scores:
    """Several boosters (LightGBM text) as one generated function of a feature row: their raw scores.

    Each feature a split reads is copied once into a local variable shared by all the boosters: comparisons
    on locals are cheaper than indexing the row at every node, and one call replaces one per booster.
    """
    body: list[str] = []
    used: set[int] = set()
    for b, text in enumerate(model_texts):
        body.append(f"    s{b} = 0.0")
        for tree in parse_trees(text, names):  # read in Python: LightGBM aborts the process on a bad text
            _emit(tree, body, 1, used, f"s{b}")
    sums = ", ".join(f"s{b}" for b in range(len(model_texts)))
    lines = ["def model(x):", *(f"    x{i} = x[{i}]" for i in sorted(used)), *body, f"    return [{sums}]"]
    scope: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<gbm-model>", "exec"), scope)  # source built from numbers only
    fn: Scores = scope["model"]
    return fn


def _emit(node: dict[str, Any], lines: list[str], depth: int, used: set[int], total: str) -> None:
    pad = "    " * depth
    if "leaf_value" in node:
        lines.append(f"{pad}{total} += {float(node['leaf_value'])!r}")
        return
    if node["decision_type"] != "<=":
        raise ValueError(f"unsupported split {node['decision_type']!r}")
    feature = int(node["split_feature"])
    used.add(feature)
    lines.append(f"{pad}if x{feature} <= {float(node['threshold'])!r}:")
    _emit(node["left_child"], lines, depth + 1, used, total)
    lines.append(f"{pad}else:")
    _emit(node["right_child"], lines, depth + 1, used, total)

"""Boosters are read from LightGBM's text in Python, exactly as LightGBM reads them, and bad texts are refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hal.engine.predict.trees import GbmConfig, compile_model, fit_boosters, params_of
from hal.engine.predict.treetext import parse_trees

NAMES = ["a", "b", "c"]
TREE = """tree
version=v4
num_class=1
num_tree_per_iteration=1
max_feature_idx=2
feature_names=a b c
tree_sizes=10 10

Tree=0
num_leaves=3
num_cat=0
split_feature=0 2
threshold=1.5 -2e-3
decision_type=2 2
left_child=-1 -2
right_child=1 -3
leaf_value=0.25 -1 3.5
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.125
shrinkage=1


end of trees

parameters:
[boosting: gbdt]
end of parameters
"""


def structure(node: dict[str, Any]) -> dict[str, Any]:
    """What the compiler reads from a node of LightGBM's own dump_model."""
    if "leaf_value" in node:
        return {"leaf_value": node["leaf_value"]}
    keys = ("split_feature", "threshold", "decision_type", "left_child", "right_child")
    return {k: structure(node[k]) if k.endswith("child") else node[k] for k in keys}


@pytest.mark.parametrize(("leaves", "objective"), [(2, "l2"), (7, "quantile"), (63, "l1")])
def test_trees_read_as_lightgbm_dumps_them(leaves: int, objective: str) -> None:
    """The guard for a LightGBM upgrade that changes its text format: this reader must agree with LightGBM."""
    import lightgbm

    rng = np.random.default_rng(leaves)
    x = rng.normal(size=(3000, 3))
    y = 3 * x[:, 0] + np.sin(4 * x[:, 1]) + rng.normal(size=3000) * 0.1
    cfg = GbmConfig(leaves=leaves, rounds=12, learning_rate=0.3, feature_fraction=1.0)
    (text,) = fit_boosters(x, [y], params_of(cfg, objective), NAMES, cfg.rounds)
    dump = lightgbm.Booster(model_str=text).dump_model()
    assert parse_trees(text, NAMES) == [structure(t["tree_structure"]) for t in dump["tree_info"]]


def test_a_hand_written_text_compiles() -> None:
    fn = compile_model(TREE, NAMES)
    assert fn([1.0, 0.0, 0.0]) == 0.25 + 0.125
    assert fn([2.0, 0.0, -1.0]) == -1 + 0.125
    assert fn([2.0, 0.0, 0.0]) == 3.5 + 0.125


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("threshold=1.5 -2e-3", "threshold=abc -2e-3", "threshold holds 'abc', not a number"),
        ("threshold=1.5 -2e-3", "threshold=1_5 -2e-3", "holds '1_5'"),
        ("threshold=1.5 -2e-3", "threshold=nan -2e-3", "holds 'nan'"),
        ("threshold=1.5 -2e-3", "threshold=1e999 -2e-3", "out of range"),
        ("threshold=1.5 -2e-3", "threshold=1.5", "threshold has 1 values, not 2"),
        ("split_feature=0 2", "split_feature=0 3", "a feature this model does not have"),
        ("split_feature=0 2", "split_feature=0 ٢", "holds '٢'"),
        ("decision_type=2 2", "decision_type=2 3", "categorical"),
        ("num_cat=0\nsplit_feature=0", "num_cat=1\nsplit_feature=0", "categorical or linear"),
        ("is_linear=0", "is_linear=1", "categorical or linear"),
        ("left_child=-1 -2", "left_child=-1 1", "do not form a tree"),  # node 1 its own child, unreachable
        ("left_child=-1 -2", "left_child=-1 -1", "do not form a tree"),
        ("right_child=1 -3", "right_child=1 -4", "do not form a tree"),
        ("num_leaves=3", "num_leaves=0", "out of range"),
        ("leaf_value=0.25 -1 3.5", "", "leaf_value is missing"),
        ("shrinkage=1\n\n\nTree=1", "num_leaves=2\n\n\nTree=1", "num_leaves given twice"),
        ("Tree=1", "Tree=2", "expected Tree=1"),
        ("end of trees", "", "truncated"),
        ("feature_names=a b c", "feature_names=a b d", "differ"),
        ("num_class=1", "num_class=3", "one-output"),
        ("tree\n", "three\n", "first line"),
    ],
)
def test_bad_texts_are_refused(old: str, new: str, reason: str) -> None:
    assert old in TREE
    with pytest.raises(ValueError, match=reason):
        parse_trees(TREE.replace(old, new, 1), NAMES)


def test_a_text_with_no_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="no tree"):
        parse_trees(TREE[: TREE.index("Tree=0")] + "end of trees\n", NAMES)

"""LightGBM's text model format, read and checked in Python: trees to compile, never handed to LightGBM.

LightGBM parses a model's trees on OpenMP threads, where its own format errors cannot reach Python: a text
with a bad number or a wrong tree size aborts the whole process (SIGABRT). A model file may come from another
LightGBM version or another tool, so its text is read here instead, every field checked, and anything this
reader does not fully understand is a ``ValueError``. It is also cheaper than loading and dumping a booster.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

MAX_LEAVES = 131072  # LightGBM's own limit on num_leaves
# What LightGBM writes; Python's int() and float() alone would also take "1_0", "nan" or non-ASCII digits.
_INT = re.compile(r"-?\d+", re.ASCII)
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)


def parse_trees(text: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """The trees of a one-output booster as nested nodes (the shape of LightGBM's ``dump_model``
    ``tree_structure``: ``split_feature``, ``threshold``, ``decision_type``, children; leaves ``leaf_value``)."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0] != "tree":
        raise ValueError("not a LightGBM text model (its first line is not 'tree')")
    try:
        end = lines.index("end of trees")
    except ValueError:
        raise ValueError("the text ends before 'end of trees' (truncated)") from None
    first = next((i for i, line in enumerate(lines[:end]) if line.startswith("Tree=")), end)
    header = _pairs(lines[1:first], "the header")
    if "average_output" in lines[1:first]:
        raise ValueError("a random-forest model (average_output) is not supported")
    got = header.get("feature_names", "").split()
    if got != list(names):
        raise ValueError(f"model features {got} differ from this version's {list(names)}")
    for key in ("num_class", "num_tree_per_iteration"):
        if header.get(key, "1") != "1":
            raise ValueError(f"{key}={header[key]}: only one-output models are supported")
    trees: list[dict[str, Any]] = []
    block: list[str] = []
    for line in [*lines[first:end], "Tree=end"]:
        if line.startswith("Tree=") and block:
            if block[0] != f"Tree={len(trees)}":
                raise ValueError(f"expected Tree={len(trees)}, found {block[0]!r}")
            trees.append(_tree(_pairs(block[1:], block[0]), len(names), block[0]))
            block = []
        if line:
            block.append(line)
    if not trees:
        raise ValueError("the model holds no tree")
    return trees


def _pairs(lines: list[str], where: str) -> dict[str, str]:
    """``key=value`` lines; lines without a value (such as ``average_output``) are skipped."""
    pairs: dict[str, str] = {}
    for line in lines:
        key, eq, value = line.partition("=")
        if not eq:
            continue
        if key in pairs:
            raise ValueError(f"{where}: {key} given twice")
        pairs[key] = value
    return pairs


def _tree(kv: dict[str, str], features: int, where: str) -> dict[str, Any]:
    leaves = _ints(kv, "num_leaves", 1, where)[0]
    if not 1 <= leaves <= MAX_LEAVES:
        raise ValueError(f"{where}: num_leaves={leaves} out of range")
    if _ints(kv, "num_cat", 1, where)[0] != 0 or kv.get("is_linear", "0") != "0":
        raise ValueError(f"{where}: categorical or linear trees are not supported")
    values = _floats(kv, "leaf_value", leaves, where)
    if leaves == 1:
        return {"leaf_value": values[0]}
    n = leaves - 1
    feature = _ints(kv, "split_feature", n, where)
    threshold = _floats(kv, "threshold", n, where)
    decision = _ints(kv, "decision_type", n, where)
    left, right = _ints(kv, "left_child", n, where), _ints(kv, "right_child", n, where)
    if any(not 0 <= f < features for f in feature):
        raise ValueError(f"{where}: a split reads a feature this model does not have")
    if any(d & 1 for d in decision):  # bit 0: categorical; bits 1-3 (default side, missing type) do not matter
        raise ValueError(f"{where}: unsupported split (categorical)")
    children = [*left, *right]
    # A tree: every node but the root, and every leaf (~index), is some split's child exactly once.
    if sorted(children) != sorted([*range(1, n), *(~leaf for leaf in range(leaves))]):
        raise ValueError(f"{where}: its children do not form a tree")

    def node(i: int) -> dict[str, Any]:
        if i < 0:
            return {"leaf_value": values[~i]}
        return {
            "split_feature": feature[i],
            "threshold": threshold[i],
            "decision_type": "<=",
            "left_child": node(left[i]),
            "right_child": node(right[i]),
        }

    root = node(0)
    if _count(root) != leaves:  # a cycle among the splits leaves some unreachable from the root
        raise ValueError(f"{where}: its children do not form a tree")
    return root


def _count(node: dict[str, Any]) -> int:
    return 1 if "leaf_value" in node else _count(node["left_child"]) + _count(node["right_child"])


def _fields(kv: dict[str, str], key: str, count: int, where: str, pattern: re.Pattern[str]) -> list[str]:
    if key not in kv:
        raise ValueError(f"{where}: {key} is missing")
    parts = kv[key].split()
    if len(parts) != count:
        raise ValueError(f"{where}: {key} has {len(parts)} values, not {count}")
    bad = next((p for p in parts if not pattern.fullmatch(p)), None)
    if bad is not None:
        raise ValueError(f"{where}: {key} holds {bad[:20]!r}, not a number")
    return parts


def _ints(kv: dict[str, str], key: str, count: int, where: str) -> list[int]:
    return [int(p) for p in _fields(kv, key, count, where, _INT)]


def _floats(kv: dict[str, str], key: str, count: int, where: str) -> list[float]:
    values = [float(p) for p in _fields(kv, key, count, where, _FLOAT)]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{where}: {key} holds a number out of range")
    return values

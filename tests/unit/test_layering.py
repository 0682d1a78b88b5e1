"""The dependency rule of DESIGN.md: model <- engine <- everything else; model and engine stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "hal"
PLANES = ("controller", "api", "executors", "cloud", "data", "observability", "htc", "cli", "sim", "learn")
IMPURE = ("subprocess", "asyncio", "threading", "multiprocessing", "socket", "sqlalchemy", "fastapi", "requests")


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def calls_open(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
        for node in ast.walk(tree)
    )


@pytest.mark.parametrize("layer", ["model", "engine"])
def test_pure_layers_import_no_plane_and_do_no_io(layer: str) -> None:
    bad: list[str] = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in imports_of(path):
            top = name.split(".")
            if top[0] == "hal" and len(top) > 1 and top[1] in PLANES:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
            if top[0] in IMPURE:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
            if layer == "model" and name.startswith("hal.engine"):
                bad.append(f"{path.relative_to(SRC)} imports {name} (model must not depend on engine)")
        if calls_open(path):
            bad.append(f"{path.relative_to(SRC)} opens files")
    assert not bad, "\n".join(bad)

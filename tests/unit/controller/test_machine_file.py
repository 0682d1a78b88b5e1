"""The live controller reads its cluster file as `hal simulate` does: a leading UTF-8 BOM is accepted and its
errors name the file (QA: `hal server` refused a BOM with TOML's "Invalid statement", and named no file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import ClusterFileError
from hal.controller.machine import Machine

GOOD = '[[nodes]]\nprefix = "n"\ncount = 2\ncpus = 2\npartitions = ["batch"]\n\n[[partitions]]\nname = "batch"\n'


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + GOOD, encoding="utf-8")
    assert len(Machine.load(path).cluster.nodes) == 2


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typed.toml"
    path.write_text(GOOD.replace("count = 2", "count = true"), encoding="utf-8")
    with pytest.raises(ClusterFileError, match=str(path)):
        Machine.load(path)
    with pytest.raises(ClusterFileError, match="cluster file not found"):
        Machine.load(tmp_path / "missing.toml")

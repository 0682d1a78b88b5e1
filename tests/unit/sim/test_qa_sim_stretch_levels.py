"""`hal simulate --stretch-factors` refuses more per-level factors than the tree has levels above its leaves."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import SwfRecord, write_swf

TREE = (
    '[[nodes]]\nprefix = "n"\ncount = 12\ncpus = 1\npartitions = ["batch"]\n[[partitions]]\nname = "batch"\n'
    'default = true\n[topology]\nlevels = ["core", "agg", "switch"]\nfanouts = [2, 2, 2]\n'
)  # 6 switches of 2 nodes, 3 aggs, 2 cores: above a leaf, agg, core and the cluster joining the cores


def _simulate(tmp_path: Path, factors: str) -> tuple[int, str]:
    (tmp_path / "ft.toml").write_text(TREE)
    recs = [SwfRecord(i, 0, -1, 100, 3, -1, -1, 3, 200, -1, 1, 1, -1, -1, -1, -1, -1, -1) for i in (1, 2)]
    write_swf(tmp_path / "t.swf", recs, {"MaxProcs": "12"})
    args = ["simulate", str(tmp_path / "t.swf"), "--cluster", str(tmp_path / "ft.toml"), "--placement", "topology"]
    res = CliRunner().invoke(app, [*args, "--estimate", "actual", "--stretch-factors", factors])
    return res.exit_code, res.output


def test_factors_beyond_the_trees_levels_are_refused_naming_them(tmp_path: Path) -> None:
    """QA L5: seven factors on a three-level tree ran without a word; only the first three can ever apply."""
    code, said = _simulate(tmp_path, "heavy=0.2/0.3/0.4/0.5,light=0.03")
    assert code != 0, said
    assert "heavy=0.2/0.3/0.4/0.5 (4 factors)" in said and "(agg, core, cluster)" in said, said
    assert "give at most 3" in said and "light" not in said.split("tree")[0], said


def test_one_factor_per_level_runs(tmp_path: Path) -> None:
    code, said = _simulate(tmp_path, "heavy=0.2/0.3/0.4,light=0.01/0.02")
    assert code == 0, said
    assert "killed by stretch" in said, said

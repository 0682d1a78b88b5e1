"""QA: `hal simulate --topology-reserve wait=60` without --whole-nodes is refused (trace jobs are tasks: there
is no multi-node job to hold), but the same reserve in a --profile file ran silently as a no-op, its results those
of a run without it; `hal compare`, which has no --whole-nodes, ran it so too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "hal" / "data" / "kth-sp2-sample.swf"
TREE = '[[nodes]]\nprefix = "n"\ncount = 16\ncpus = 8\n[topology]\nlevels = ["spine", "switch"]\nfanouts = [2, 8]\n'
NEEDS = "topology_reserve holds multi-node jobs for their fewest leaves: it needs"


def _files(tmp_path: Path) -> tuple[Path, Path]:
    prof, cluster = tmp_path / "res.toml", tmp_path / "tree.toml"
    prof.write_text('topology_reserve = "wait=60"\n')
    cluster.write_text(TREE)
    return prof, cluster


def test_simulate_refuses_a_profile_reserve_without_whole_nodes_as_the_flag(tmp_path: Path) -> None:
    prof, cluster = _files(tmp_path)
    base = ["simulate", str(SAMPLE), "--cluster", str(cluster), "--window", "0:100"]
    flag = CliRunner().invoke(app, [*base, "--topology-reserve", "wait=60"])
    assert flag.exit_code == 2 and f"--{NEEDS.replace('_', '-')} --whole-nodes" in " ".join(flag.output.split())
    res = CliRunner().invoke(app, [*base, "--profile", str(prof)])
    assert res.exit_code == 2, res.output
    assert f"res.toml: {NEEDS} --whole-nodes" in " ".join(res.output.split())
    out = tmp_path / "s.json"
    ok = CliRunner().invoke(app, [*base, "--profile", str(prof), "--whole-nodes", "--summary-out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "reserve=wait=60" in json.loads(out.read_text())["policy"]


def test_compare_refuses_a_profile_reserve_it_cannot_apply(tmp_path: Path) -> None:
    prof, cluster = _files(tmp_path)
    args = ["compare", str(SAMPLE), "--cluster", str(cluster), "--window", "0:100", "--no-plots"]
    res = CliRunner().invoke(app, [*args, "--policies", f"easy:fcfs,{prof}"])
    assert res.exit_code == 2, res.output
    assert f"{NEEDS} whole-node jobs (hal simulate --whole-nodes --profile)" in " ".join(res.output.split())

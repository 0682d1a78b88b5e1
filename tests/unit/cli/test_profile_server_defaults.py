"""QA: one profile file scheduled differently in the simulator and the server. A file without `order` ran in
`hal simulate --profile` (and `hal compare`, and the `hal explain` what-if) as easy:fcfs, while `hal server
--profile` ordered it by multifactor, the server's default for every key a profile leaves out."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.compare import policy_of
from hal.cli.main import app
from hal.cli.tune import profile_toml
from hal.engine.plugins.tuned import TunedArgs
from hal.engine.profile import Profile

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "hal" / "data" / "kth-sp2-sample.swf"
TREE = '[[nodes]]\nprefix = "n"\ncount = 16\ncpus = 8\n[topology]\nlevels = ["spine", "switch"]\nfanouts = [2, 8]\n'


def server_reads(path: Path, has_tree: bool) -> Profile:
    """What `hal server --profile` schedules with (api/server.build and cli/server.py read it so)."""
    return Profile.read(path, has_tree, base=Profile.server_default(has_tree))


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    prof, cluster = tmp_path / "prof.toml", tmp_path / "tree.toml"
    prof.write_text("max_switch_wait = 20\n")
    cluster.write_text(TREE)
    return prof, cluster


def test_simulate_orders_a_profile_without_order_as_the_server_does(files: tuple[Path, Path], tmp_path: Path) -> None:
    prof, cluster = files
    want = server_reads(prof, has_tree=True)
    assert want.order == "multifactor"
    out = tmp_path / "s.json"
    args = ["simulate", str(SAMPLE), "--cluster", str(cluster), "--profile", str(prof), "--window", "0:150"]
    res = CliRunner().invoke(app, [*args, "--summary-out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["policy"].startswith("easy:multifactor est=user"), out.read_text()


def test_compare_reads_a_profile_entry_as_the_server_does(files: tuple[Path, Path]) -> None:
    prof, cluster = files
    assert policy_of(str(prof), "topology", cluster) == server_reads(prof, has_tree=True)
    assert policy_of(str(prof), "firstfit", None) == server_reads(prof, has_tree=False)


def test_explain_what_if_replays_the_profile_as_the_server_reads_it(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    prof, cluster = files
    seen: list[Profile] = []

    class Caught(Exception):
        pass

    def capture(jobs: Any, book: Any, profile: Profile, *args: Any, **kw: Any) -> None:
        seen.append(profile)
        raise Caught

    monkeypatch.setattr("hal.sim.placement_sim.PlacementSimulation", capture)
    args = ["explain", "50", "--trace", str(SAMPLE), "--cluster", str(cluster), "--profile", str(prof)]
    res = CliRunner().invoke(app, args)
    assert isinstance(res.exception, Caught), res.output
    assert seen == [server_reads(prof, has_tree=True)]


@pytest.mark.parametrize("placement", [None, "topology"])
def test_a_tuned_profile_reads_the_same_in_simulate_and_server(tmp_path: Path, placement: str | None) -> None:
    """`hal tune --profile-out` names its order (and the rest of its policy): simulate reads it as the server."""
    path, cluster = tmp_path / "tuned.toml", tmp_path / "tree.toml"
    cluster.write_text(TREE)
    path.write_text(profile_toml(replace(TunedArgs(), w_age=2.0), "sjf", "hal tune test", placement, "last2"))
    for has_tree in (False, True) if placement is None else (True,):
        got = server_reads(path, has_tree)
        assert got.order == "tuned" and got.backfill_order == "sjf" and got.estimate == "last2"
        assert got.order_args["w_age"] == 2.0
        assert policy_of(str(path), "firstfit", cluster if has_tree else None) == got

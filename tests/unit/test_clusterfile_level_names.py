"""QA: [topology] levels = ["pod.a", "sw"] was taken, and a job's SLURM_TOPOLOGY_ADDR "pod.a0.sw0.n000" then had
more '.'-parts than its pattern "switch.switch.node"; "a,b" and "sw itch" were taken too. A level name is a word:
refused by `hal cluster show` and by the server's loader alike, naming the character."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import ClusterFileError
from hal.controller.machine import Machine


@pytest.mark.parametrize(("name", "char"), [("pod.a", "."), ("a,b", ","), ("sw itch", " "), ("r/s", "/"), ("k=v", "=")])
def test_a_level_name_that_breaks_addresses_or_options_is_refused(tmp_path: Path, name: str, char: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[[nodes]]\nprefix = "n"\ncount = 16\n[topology]\nlevels = ["{name}", "sw"]\nfanouts = [2, 8]\n')
    said = f"[topology]: level name {name!r} contains {char!r}"
    shown = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert shown.exit_code == 2 and said in " ".join(shown.stderr.split()), shown.stderr
    with pytest.raises(ClusterFileError, match=re.escape(f"{said}")):
        Machine.load(path)  # what `hal server --cluster` loads


def test_word_level_names_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[nodes]]\nprefix = "n"\ncount = 16\n[topology]\nlevels = ["pod-a", "sw_1"]\nfanouts = [2, 8]\n')
    assert CliRunner().invoke(app, ["cluster", "show", str(path)]).exit_code == 0

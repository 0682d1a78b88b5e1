"""[topology] levels without fanouts, or fanouts without levels, is refused as the other malformed shapes are (QA:
either alone was taken in silence as one switch over all the nodes, or a guess at the other), by `hal cluster show`
and by the server's loader alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import ClusterFileError
from hal.controller.machine import Machine


@pytest.mark.parametrize(
    ("table", "said"),
    [('levels = ["switch"]', "levels needs fanouts beside it"), ("fanouts = [5]", "fanouts needs levels beside it")],
)
def test_one_of_levels_and_fanouts_alone_is_refused(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[[nodes]]\nprefix = "n"\ncount = 100\n[topology]\n{table}\n')
    shown = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert shown.exit_code == 2 and f"[topology]: {said}" in " ".join(shown.stderr.split()), shown.stderr
    with pytest.raises(ClusterFileError, match=rf"\[topology\]: {said}: .*fanouts = \[4, 8\]"):
        Machine.load(path)  # what `hal server --cluster` loads
    path.write_text('[[nodes]]\nprefix = "n"\ncount = 100\n[topology]\nlevels = ["switch"]\nfanouts = [5]\n')
    assert CliRunner().invoke(app, ["cluster", "show", str(path)]).exit_code == 0

"""`hal token create` in a state folder no server made: a clear refusal (it was a traceback of os.open), and the
command does not import the server (about 2 s of fastapi and uvicorn per token)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.token import app


def test_a_missing_state_folder_is_said(tmp_path: Path) -> None:
    got = CliRunner().invoke(app, ["create", "--user", "x", "--home", str(tmp_path / "none")])
    assert got.exit_code != 0
    assert "no server state in" in got.output and "start `hal server` there first" in got.output, got.output


def test_creating_a_token_imports_no_server(tmp_path: Path) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from hal.cli.token import app;"
        f"r = CliRunner().invoke(app, ['create', '--user', 'x', '--home', {str(tmp_path)!r}]);"
        "assert r.exit_code == 0, r.output; print('fastapi' in sys.modules, 'hal.api.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"], out

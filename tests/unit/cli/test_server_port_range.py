"""`hal server --port` outside 0-65535 is a one-line error, as a port in use is (it was an OverflowError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import build


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_no_socket_can_have_is_refused_in_one_line(tmp_path: Path, port: str) -> None:
    home = tmp_path / "home"
    got = CliRunner().invoke(build(["server"]), ["server", "--home", str(home), f"--port={port}"])
    assert got.exception is None or isinstance(got.exception, SystemExit), got.exception
    assert got.exit_code == 2
    assert "error:" in got.output and "0 to 65535" in got.output and "Traceback" not in got.output
    assert not home.exists()  # refused before anything is made in --home

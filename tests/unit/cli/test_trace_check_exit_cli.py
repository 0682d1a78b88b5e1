"""QA: `hal trace check` exited 2 for a binary file and a truncated gzip; --help promises exit 1 "when the replay
would refuse the file". 2 stays for a path that names no file (a usage error)."""

from __future__ import annotations

import gzip
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app


def code(path: Path) -> int:
    return CliRunner().invoke(app, ["trace", "check", str(path)]).exit_code


def test_trace_check_exits_1_for_a_file_the_replay_refuses(tmp_path: Path) -> None:
    binary = tmp_path / "bin.swf"
    binary.write_bytes(b"1 0 0\x00 10\n")
    truncated = tmp_path / "t.swf.gz"
    truncated.write_bytes(gzip.compress(b"1 0 0 10 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1\n" * 200)[:60])
    assert code(binary) == 1 and code(truncated) == 1
    assert code(tmp_path / "none.swf") == 2 and code(tmp_path) == 2

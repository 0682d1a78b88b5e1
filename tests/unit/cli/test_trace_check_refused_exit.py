"""QA: `hal trace check` exited 2 for a binary file and a truncated gzip, which --help promises exit 1 for ("exit 1
when the replay would refuse the file"); 2 stays for a path that names no file, a usage error."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from hal.cli.trace_check import unreadable
from hal.sim.swf import TraceError, read_swf


def refused(path: Path) -> int:
    with pytest.raises(TraceError) as caught:
        read_swf(path)
    return unreadable(path, caught.value).exit_code


def test_a_file_the_replay_refuses_exits_1(tmp_path: Path) -> None:
    binary = tmp_path / "bin.swf"
    binary.write_bytes(b"1 0 0\x00 10\n")
    truncated = tmp_path / "t.swf.gz"
    truncated.write_bytes(gzip.compress(b"1 0 0 10 1 -1 -1 1 100 -1 1 1 1 -1 -1 -1 -1 -1\n" * 200)[:60])
    assert refused(binary) == 1
    assert refused(truncated) == 1


def test_a_path_naming_no_file_stays_a_usage_error(tmp_path: Path) -> None:
    assert refused(tmp_path / "none.swf") == 2
    assert refused(tmp_path) == 2

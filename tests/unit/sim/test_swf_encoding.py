"""F10: a byte that is not UTF-8 refused the whole trace; now only the job line holding it is skipped."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import TraceError, read_swf

GOOD = "1 0 10 100 4 -1 -1 4 200 -1 1 3 1 -1 1 -1 -1 -1"
LATIN1 = b"; Computer: Universit\xe9 de Montr\xe9al\n; MaxProcs: 128\n"


def test_a_latin1_header_comment_is_read_leniently(tmp_path: Path) -> None:
    path = tmp_path / "latin1.swf"
    path.write_bytes(LATIN1 + GOOD.encode() + b"\n")
    trace = read_swf(path)
    assert trace.problems == [] and len(trace.records) == 1 and trace.max_procs == 128
    assert trace.header["Computer"] == "Université de Montréal"


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_a_job_line_with_an_undecodable_byte_is_skipped_by_its_number(tmp_path: Path, compress: bool) -> None:
    lines = [GOOD.replace("1 0", f"{i} {i}", 1).encode() for i in range(1, 6)]
    lines[2] += b" \xff"  # line 5 of the file (two header lines first)
    data = LATIN1 + b"\n".join(lines) + b"\n"
    path = tmp_path / "t.swf"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    trace = read_swf(path)
    assert [r.job_id for r in trace.records] == [1, 2, 4, 5]
    assert [r.line for r in trace.records] == [3, 4, 6, 7]  # numbering kept past the skipped line
    assert len(trace.problems) == 1 and trace.problems[0].line == 5
    assert "not UTF-8" in str(trace.problems[0])


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,  # an executable
        LATIN1 + GOOD.encode() + b"\n\x00\x01\x02\n",  # text, then binary
        b"\xff\xfe" * 50,  # no NUL, but no line of text either
    ],
    ids=["elf", "nul-later", "no-text"],
)
def test_a_binary_file_is_still_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "b.swf"
    path.write_bytes(data)
    with pytest.raises(TraceError, match="not a text SWF file"):
        read_swf(path)


def test_the_real_interpreter_binary_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "elf.swf"
    path.write_bytes(Path(sys.executable).resolve().read_bytes()[:65536])
    with pytest.raises(TraceError, match="not a text SWF file"):
        read_swf(path)


def test_the_trace_tools_run_a_latin1_trace(tmp_path: Path) -> None:
    """`hal trace check` and `hal simulate` on a generated trace with a Latin-1 header and one bad job line."""
    synth = tmp_path / "synth.swf"
    result = CliRunner().invoke(
        app, ["trace", "generate", str(synth), "--jobs", "200", "--load", "0.8", "--procs", "32"]
    )
    assert result.exit_code == 0, result.output
    lines = synth.read_bytes().split(b"\n")
    first_job = next(i for i, line in enumerate(lines) if line and not line.startswith(b";"))
    lines[first_job + 3] += b" \xe9"
    latin1 = tmp_path / "latin1.swf"
    latin1.write_bytes(LATIN1 + b"\n".join(lines))
    check = CliRunner().invoke(app, ["trace", "check", str(latin1)])
    assert check.exit_code == 0, check.output
    assert "199 jobs" in check.output and "1 bad lines" in check.output
    sim = CliRunner().invoke(app, ["simulate", str(latin1)])
    assert sim.exit_code == 0, sim.output
    assert "not a text" not in sim.output and "Traceback" not in sim.output

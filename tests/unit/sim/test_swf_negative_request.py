"""QA (ML engineer): a requested time (SWF field 9) of -200 was read as "no request", silently; only -1 means
unknown in SWF. It is reported as a bad line, as a negative submit time is, and -1 still means unknown."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import read_swf

GOOD = "1 0 10 100 4 -1 -1 4 200 -1 1 3 1 -1 1 -1 -1 -1"


def test_a_negative_requested_time_other_than_minus_one_is_a_bad_line() -> None:
    lines = ["; MaxProcs: 8", GOOD, GOOD.replace("4 200 -1", "4 -200 -1").replace("1 0 10", "2 5 10", 1),
             GOOD.replace("4 200 -1", "4 -1 -1").replace("1 0 10", "3 9 10", 1)]  # fmt: skip
    trace = read_swf(io.StringIO("\n".join(lines) + "\n"))
    assert [r.job_id for r in trace.records] == [1, 3]
    assert trace.records[1].req_time == -1  # unknown, as SWF defines it
    assert [str(p) for p in trace.problems] == ["line 3: negative requested time -200 (field 9; -1 means unknown)"]


def test_trace_check_lists_it(tmp_path: Path) -> None:
    trace = tmp_path / "t.swf"
    trace.write_text("; MaxProcs: 8\n" + GOOD + "\n" + GOOD.replace("4 200 -1", "4 -200 -1").replace("1 0", "2 5", 1))
    result = CliRunner().invoke(app, ["trace", "check", str(trace)])
    said = " ".join((result.stdout + result.stderr).split())
    assert "line 3: negative requested time -200" in said, said

"""SWF reading (header, bad lines reported with their line numbers) and writing (round trip)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hal.sim.swf import FIELDS, SwfRecord, TraceError, parse_line, read_swf, write_swf

GOOD = "1 0 10 100 4 -1 -1 4 200 -1 1 3 1 -1 1 -1 -1 -1"


def test_header_and_records() -> None:
    text = "; Version: 2.2\n; MaxProcs: 128\n; MaxNodes: 64\n;   free comment\n\n" + GOOD + "\n"
    trace = read_swf(io.StringIO(text))
    assert trace.header == {"Version": "2.2", "MaxProcs": "128", "MaxNodes": "64"}
    assert trace.max_procs == 128
    assert trace.path == "<stream>"
    rec = trace.records[0]
    assert (rec.job_id, rec.submit, rec.wait, rec.run, rec.procs, rec.req_time, rec.user) == (1, 0, 10, 100, 4, 200, 3)
    assert rec.values()[: len(FIELDS)] == tuple(int(x) for x in GOOD.split())


def test_max_procs_falls_back_to_max_nodes_and_ignores_junk() -> None:
    assert read_swf(io.StringIO("; MaxNodes: 64\n")).max_procs == 64
    assert read_swf(io.StringIO("; MaxProcs: lots\n")).header_int("MaxProcs") is None  # max_procs refuses it
    assert read_swf(io.StringIO("; MaxProcs: -1\n")).max_procs is None
    assert read_swf(io.StringIO("; MaxProcs: 10\n; MaxProcs: 20\n")).max_procs == 10  # the first one counts


def test_bad_lines_are_reported_with_their_line_numbers() -> None:
    lines = [
        "; MaxProcs: 8",
        GOOD,
        "2 0 10 100 4",  # truncated
        GOOD.replace("1 0 10 100 4", "3 0 10 abc 4"),  # text in a numeric field
        GOOD.replace("1 0 10", "4 -5 10"),  # negative submit time
        GOOD + " 7",  # too many fields
        GOOD.replace("1 0 10 100", "5 0.0 10 99.6"),  # decimals are rounded, not refused
        GOOD.replace("1 0 10 100", "6 0 10 nan"),
        GOOD.replace("1 0 10", "7 99999999999999999999999 10"),  # a corrupt field would swamp every average
        GOOD.replace("1 0 10", "4.5 0 10"),  # counted fields are whole (QA: it ran as job 5, the real one dropped)
        GOOD.replace("1 0 10 100 4", "9 0 10 100 2.5"),  # 2.5 processors ran as 3
        GOOD.replace("1 0 10", "0 0 10"),  # SWF numbers jobs from 1
        GOOD.replace("1 0 10 100 4", "10.0 0 10 100 4.0"),  # a zero fraction is whole
    ]
    trace = read_swf(io.StringIO("\n".join(lines) + "\n"))
    assert [r.job_id for r in trace.records] == [1, 5, 10]
    assert trace.records[1].run == 100
    assert [str(p) for p in trace.problems] == [
        "line 3: truncated: 5 fields, SWF needs 18",
        "line 4: field 4 (run) is not a number: 'abc'",
        "line 5: negative submit time -5",
        "line 6: 19 fields, SWF has 18",
        "line 8: field 4 (run) is not a number: 'nan'",
        "line 9: field 2 (submit) is out of range: 99999999999999999999999",
        "line 10: field 1 (job_id) is not a whole number: '4.5'",
        "line 11: field 5 (procs) is not a whole number: '2.5'",
        "line 12: job id 0: SWF numbers jobs from 1",
    ]


def test_parse_line_returns_a_problem_not_an_exception() -> None:
    assert str(parse_line("x", 12)) == "line 12: truncated: 1 fields, SWF needs 18"
    assert isinstance(parse_line(GOOD, 1), SwfRecord)


def test_files_that_cannot_be_read_at_all(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="not found"):
        read_swf(tmp_path / "missing.swf")
    with pytest.raises(TraceError, match="is a directory"):
        read_swf(tmp_path)
    binary = tmp_path / "blob.swf"
    binary.write_bytes(b"\x00\xff\xfe\x80" * 64)
    with pytest.raises(TraceError, match="not a text SWF file"):
        read_swf(binary)


def test_an_empty_file_has_no_records(tmp_path: Path) -> None:
    empty = tmp_path / "empty.swf"
    empty.write_text("")
    trace = read_swf(empty)
    assert trace.records == [] and trace.problems == [] and trace.path == str(empty)


def test_write_read_round_trip(tmp_path: Path) -> None:
    records = [SwfRecord(*range(i + 1, i + 19)) for i in range(3)] + [SwfRecord(9, 0, *([-1] * 16))]  # ids from 1
    path = tmp_path / "out.swf"
    write_swf(path, records, {"MaxProcs": "64", "Note": "round trip"})
    back = read_swf(path)
    assert back.records == records
    assert back.header == {"MaxProcs": "64", "Note": "round trip"}
    assert back.problems == []

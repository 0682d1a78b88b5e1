"""SWF files as the archives ship them: behind a BOM, gzip-compressed, and fields Python alone reads too freely."""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path

import pytest

from hal.sim.swf import TraceError, read_swf

GOOD = "1 0 10 100 4 -1 -1 4 200 -1 1 3 1 -1 1 -1 -1 -1"
TEXT = f"; MaxProcs: 128\n{GOOD}\n{GOOD.replace('1 0 10', '2 5 10', 1)}\n"


def test_a_bom_does_not_hide_the_first_header_line(tmp_path: Path) -> None:
    """QA: '; MaxProcs:' on line 1 behind a BOM was lost, silently changing the machine's size."""
    path = tmp_path / "bom.swf"
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    trace = read_swf(path)
    assert trace.max_procs == 128 and trace.problems == [] and len(trace.records) == 2
    assert read_swf(io.StringIO("\ufeff" + TEXT)).max_procs == 128  # a stream opened elsewhere too


@pytest.mark.parametrize("field", ["1_0", "1_0.5", "١٠"])  # underscores, another script's digits
def test_fields_int_would_take_are_refused(field: str) -> None:
    """QA: '1_0' was read as 10, since Python's int() takes underscores."""
    trace = read_swf(io.StringIO(GOOD.replace(" 100 ", f" {field} ", 1) + "\n"))
    assert trace.records == []
    assert [str(p) for p in trace.problems] == [f"line 1: field 4 (run) is not a number: {field!r}"]


def test_a_non_ascii_separator_still_reads() -> None:
    assert read_swf(io.StringIO(GOOD.replace(" ", "\u00a0", 1) + "\n")).records[0].job_id == 1


def test_a_gzip_compressed_trace_is_read_as_it_is(tmp_path: Path) -> None:
    """QA: a .swf.gz (as the Parallel Workloads Archive ships) was 'not a text SWF file'. Found by its bytes."""
    plain, packed = tmp_path / "t.swf", tmp_path / "t.swf.gz"
    plain.write_text(TEXT)
    packed.write_bytes(gzip.compress(b"\xef\xbb\xbf" + TEXT.encode()))
    got = read_swf(packed)
    assert got.records == read_swf(plain).records and got.max_procs == 128
    misnamed = tmp_path / "t2.swf"
    misnamed.write_bytes(packed.read_bytes())
    assert read_swf(misnamed).records == got.records


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (gzip.compress(TEXT.encode(), mtime=0)[:30], "damaged or truncated gzip file \\(Compressed file ended"),
        (
            gzip.compress(TEXT.encode(), mtime=0)[:12] + b"\x00" * 40,
            "damaged or truncated gzip file \\(CRC check failed",
        ),
        (flipped(gzip.compress(TEXT.encode() * 50, mtime=0), 20), "damaged or truncated gzip file \\(Error -3"),
        (gzip.compress(b"\xff\xfe" * 50, mtime=0), "not a text SWF file"),
        (bz2.compress(TEXT.encode()), "bzip2-compressed: decompress it first"),
    ],
    ids=["truncated-gzip", "zeroed-gzip", "flipped-gzip", "binary-in-gzip", "bzip2"],
)
def test_damaged_or_other_compressed_traces_fail_clearly(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "t.swf"
    path.write_bytes(data)
    with pytest.raises(TraceError, match=reason):
        read_swf(path)

"""QA: a trace read from a pipe (``<(xzcat t.swf.xz)``, /dev/stdin) lost its header and first jobs, because its first
bytes were read through one handle and the file opened again; header sizes were read through float() ("1e3" as
1000, 1e23 processors)."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest

from hal.sim.swf import HeaderError, read_swf

JOBS = 3000  # far more than one buffer's worth of lines
TEXT = "; MaxProcs: 100\n" + "".join(f"{i} {i} 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n" for i in range(1, JOBS + 1))


def through_pipe(data: bytes) -> tuple[Path, threading.Thread]:
    """A /dev/fd path to a pipe that ``data`` is written into, as a shell's process substitution gives."""
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    return Path(f"/dev/fd/{read_end}"), writer


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_piped_trace_is_read_whole(packed: bool) -> None:
    data = TEXT.encode()
    path, writer = through_pipe(gzip.compress(data) if packed else data)
    try:
        trace = read_swf(path)
    finally:
        writer.join(timeout=10)
        os.close(int(path.name))
    assert trace.problems == [], trace.problems[:3]
    assert len(trace.records) == JOBS and trace.records[0].job_id == 1
    assert trace.max_procs == 100


def test_a_file_is_still_read_whole_and_a_compressed_one_named(tmp_path: Path) -> None:
    plain = tmp_path / "t.swf"
    plain.write_text(TEXT)
    assert len(read_swf(plain).records) == JOBS
    packed = tmp_path / "t.swf.gz"
    packed.write_bytes(gzip.compress(TEXT.encode()))
    assert len(read_swf(packed).records) == JOBS


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("99999999999999999999999", "is out of range"),
        ("1e3", "is not written in digits"),
        ("16.5", "is not a whole number"),
        ("abc", "is not a number"),
    ],
)
def test_a_header_size_takes_whole_numbers_in_range(tmp_path: Path, value: str, words: str) -> None:
    path = tmp_path / "h.swf"
    path.write_text(f"; Computer: x\n; MaxProcs: {value}\n1 0 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n")
    trace = read_swf(path)
    with pytest.raises(HeaderError) as caught:
        _ = trace.max_procs
    assert words in str(caught.value) and "(line 2)" in str(caught.value), caught.value


@pytest.mark.parametrize(("value", "size"), [("64", 64), ("16.0", 16), ("-1", None), ("0", None)])
def test_plain_sizes_still_read(tmp_path: Path, value: str, size: int | None) -> None:
    path = tmp_path / "h.swf"
    path.write_text(f"; MaxProcs: {value}\n1 0 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n")
    assert read_swf(path).max_procs == size

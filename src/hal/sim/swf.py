"""Reading and writing the Standard Workload Format (SWF), reporting bad lines instead of crashing."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hal.atomic_write import output_file
from hal.sim.swf_fields import WHOLE, is_float, is_number, is_whole, strict_int, whole_int

FIELDS: tuple[str, ...] = (
    "job_id",
    "submit",
    "wait",
    "run",
    "procs",
    "cpu_time",
    "mem_used",
    "req_procs",
    "req_time",
    "req_mem",
    "status",
    "user",
    "group",
    "executable",
    "queue",
    "partition",
    "preceding",
    "think_time",
)

_HEADER = re.compile(r"^;\s*(\w+)\s*:\s*(.*?)\s*$")
_WHOLE = re.compile(r"([+-]?[0-9]+)(\.[0-9]*)?")  # a header's number: digits, "16.0" allowed, no exponent
# the SWF header's keys, so that "; maxprocs: 64" is read as "; MaxProcs: 64" (archives differ in case)
_NAMES = (
    "Version", "Computer", "Installation", "Acknowledge", "Information", "Conversion", "MaxJobs", "MaxRecords",
    "Preemption", "UnixStartTime", "TimeZone", "TimeZoneString", "StartTime", "EndTime", "MaxNodes", "MaxProcs",
    "MaxRuntime", "MaxMemory", "AllowOveruse", "MaxQueues", "Queues", "Queue", "MaxPartitions", "Partitions",
    "Partition", "Note", "HalPartitions",
)  # fmt: skip
KEYS = {k.lower(): k for k in _NAMES}
NUMERIC = ("MaxProcs", "MaxNodes", "MaxJobs", "MaxRecords", "UnixStartTime", "MaxRuntime", "MaxMemory")
SIZE_KEYS = ("MaxProcs", "MaxNodes")  # the only header fields a replay reads: the machine's size


@dataclass(slots=True)
class SwfRecord:
    """One SWF line: 18 integer fields, -1 meaning unknown."""

    job_id: int
    submit: int
    wait: int
    run: int
    procs: int
    cpu_time: int
    mem_used: int
    req_procs: int
    req_time: int
    req_mem: int
    status: int
    user: int
    group: int
    executable: int
    queue: int
    partition: int
    preceding: int
    think_time: int
    line: int = field(default=0, compare=False)  # where the record was read from; 0 when built in code

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in FIELDS)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line > 0 else self.message


@dataclass(slots=True)
class SwfTrace:
    """The records of a file, its header fields, and every line that could not be used."""

    records: list[SwfRecord] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    path: str = ""
    notes: list[str] = field(default_factory=list)  # what the header says that a reader should know (conflicts)
    header_lines: dict[str, int] = field(default_factory=dict)  # key -> line it was read from
    comments: list[str] = field(default_factory=list)  # the header's lines as written (continuations too)

    def header_number(self, key: str) -> int | None:
        """A numeric header field: None when absent or unknown (-1, 0 or empty, as the archive writes an
        unknown), a whole number otherwise ("16.0" is 16); HeaderError, naming the line, for anything else:
        exponents ("1e3") and values past a job field's range (MAX_VALUE) were read as sizes through float()."""
        raw = self.header.get(key)
        if raw is None or not raw.split():
            return None
        token = raw.split()[0]
        where = f" (line {self.header_lines[key]})" if self.header_lines.get(key) else ""
        match = _WHOLE.fullmatch(token)
        if match is None:
            what = "is not written in digits (e.g. 1000)" if is_float(token) else "is not a number"
            raise HeaderError(f"header {key}: {raw!r} {what}{where}")
        value = int(match.group(1))
        if (match.group(2) or "").strip(".0") or value < -1:
            raise HeaderError(
                f"header {key}: {raw!r} is not a whole number of at least 1 (-1 or 0 means unknown){where}"
            )
        if value > MAX_VALUE:
            raise HeaderError(f"header {key}: {raw!r} is out of range (at most {MAX_VALUE:,}, as a job field){where}")
        return value if value > 0 else None

    def header_int(self, key: str) -> int | None:
        """``header_number`` that reads a malformed field as absent (for keys nothing depends on)."""
        try:
            return self.header_number(key)
        except HeaderError:
            return None

    @property
    def max_procs(self) -> int | None:
        """The machine's size from the header, MaxProcs before MaxNodes; None when neither gives one. A
        malformed one is a HeaderError (a ValueError), so every replay refuses it with the same words that
        ``hal trace check`` prints, instead of sizing the machine to its largest job."""
        return self.header_number("MaxProcs") or self.header_number("MaxNodes")


class TraceError(Exception):
    """A trace that cannot be read at all (missing, unreadable, not text)."""


class HeaderError(ValueError):
    """A header field a replay needs (MaxProcs, MaxNodes) that is neither a whole number nor unknown."""


MAX_VALUE = 10**12  # over 30,000 years in seconds; larger than any field of a real trace


def parse_line(text: str, lineno: int) -> SwfRecord | Problem:
    parts = text.split()
    if len(parts) < len(FIELDS):
        return Problem(lineno, f"truncated: {len(parts)} fields, SWF needs {len(FIELDS)}")
    if len(parts) > len(FIELDS):
        return Problem(lineno, f"{len(parts)} fields, SWF has {len(FIELDS)}")
    convert = strict_int if "_" in text or not text.isascii() else whole_int
    try:
        values = [convert(p) for p in parts]
    except ValueError:
        bad = next(i for i, p in enumerate(parts) if not is_number(p))
        return Problem(lineno, f"field {bad + 1} ({FIELDS[bad]}) is not a number: {parts[bad]!r}")
    part = next((i for i in WHOLE if not is_whole(parts[i])), None)
    if part is not None:  # QA: 4.5 ran as job 5 and the real job 5 was dropped as its duplicate; 2.5 CPUs as 3
        return Problem(lineno, f"field {part + 1} ({FIELDS[part]}) is not a whole number: {parts[part]!r}")
    rec = SwfRecord(*values)
    rec.line = lineno
    if rec.job_id < 1:
        return Problem(lineno, f"job id {rec.job_id}: SWF numbers jobs from 1")
    if rec.submit < 0:
        return Problem(lineno, f"negative submit time {rec.submit}")
    if rec.req_time < -1:  # only -1 means unknown: -200 was read as no request, silently (QA)
        return Problem(lineno, f"negative requested time {rec.req_time} (field 9; -1 means unknown)")
    big = next((i for i, v in enumerate(values) if abs(v) > MAX_VALUE), None)
    if big is not None:  # beyond any clock or machine: a corrupt field, which would swamp every average
        return Problem(lineno, f"field {big + 1} ({FIELDS[big]}) is out of range: {parts[big]}")
    return rec


def iter_lines(stream: Iterable[str], trace: SwfTrace) -> Iterator[SwfRecord]:
    in_header = True  # the comments before the first record: the header, kept as written
    for lineno, raw in enumerate(stream, start=1):
        line = (raw.removeprefix("\ufeff") if lineno == 1 else raw).strip()  # a BOM hid the first header line
        if not line:
            continue
        if line.startswith(";"):
            if in_header:
                trace.comments.append(line)
            match = _HEADER.match(line)
            if match and not _continuation(line, match):
                _header_line(trace, KEYS.get(match.group(1).lower(), match.group(1)), match.group(2), lineno)
            continue
        in_header = False
        parsed = parse_line(line, lineno)
        if isinstance(parsed, Problem):
            trace.problems.append(parsed)
        else:
            yield parsed


def header_key(line: str) -> str | None:
    """The field a header line sets (its key as the archive spells it), None for a continuation or a comment."""
    match = _HEADER.match(line.strip())
    if match is None or _continuation(line.strip(), match):
        return None
    return KEYS.get(match.group(1).lower(), match.group(1))


def _continuation(line: str, match: re.Match[str]) -> bool:
    """A line that goes on from the one above (``;              http://...`` under ``; Information:``), not a
    field named 'http' (QA: --jobs-out wrote it back as '; http: //...'): an unknown key, indented, or a URL."""
    if match.group(1).lower() in KEYS:
        return False
    return match.group(2).startswith("//") or len(line) - len(line[1:].lstrip()) > 3


def _header_line(trace: SwfTrace, key: str, value: str, lineno: int) -> None:
    """The first line of a key counts; a later numeric one that says otherwise is noted, not dropped silently."""
    if key not in trace.header:
        trace.header[key], trace.header_lines[key] = value, lineno
    elif key in NUMERIC and value != trace.header[key]:
        first = trace.header_lines[key]
        trace.notes.append(
            f"line {lineno}: header {key}: {value!r} differs from {trace.header[key]!r} on line {first}; "
            f"the first is used"
        )


def _note_unknown_size(trace: SwfTrace) -> None:
    """Say when a size field is present but unknown (-1 or 0): the replay reads it as absent."""
    for key in SIZE_KEYS:
        raw = trace.header.get(key)
        try:
            unknown = raw is not None and trace.header_number(key) is None
        except HeaderError:
            continue  # refused where it is read
        if unknown:
            trace.notes.append(f"header {key}: {raw!r} means unknown: read as if the trace had no {key} line")


def _lenient(stream: Iterable[str], trace: SwfTrace, path: Path) -> Iterator[str]:
    """The lines of a file decoded with ``surrogateescape``: one byte that is not UTF-8 (a Latin-1 site name in
    a header comment) refused the whole trace (QA). A comment such as that is read as Latin-1; a
    job line with such bytes is reported by its number and skipped (an empty line in its place keeps the
    numbering). A NUL byte, or no line of text at all, is a binary file and still refused."""
    text_lines = 0
    for lineno, line in enumerate(stream, start=1):
        if "\x00" in line:
            raise TraceError(f"{path} is not a text SWF file (a NUL byte on line {lineno})")
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: an undecodable byte
            if not line.lstrip().removeprefix("\ufeff").startswith(";"):
                trace.problems.append(
                    Problem(lineno, f"not UTF-8 text (an undecodable byte at column {exc.start + 1})")
                )
                yield ""
                continue
            line = line.encode("utf-8", "surrogateescape").decode("latin-1")
        if line.strip():
            text_lines += 1
        yield line
    if trace.problems and not text_lines and not trace.records:
        first = trace.problems[0]
        raise TraceError(f"{path} is not a text SWF file (no line of it is UTF-8 text; {first})")


def read_swf(source: str | Path | TextIO) -> SwfTrace:
    """Read a whole SWF file (plain or gzip-compressed). Raises TraceError only when nothing can be read."""
    trace = SwfTrace(path=str(source) if not isinstance(source, io.IOBase) else "<stream>")
    if isinstance(source, str | Path):
        path = Path("/dev/stdin" if str(source) == "-" else source)  # `-`: standard input, as /dev/stdin (QA)
        if not path.exists():
            raise TraceError(f"trace file not found: {path}")
        if path.is_dir():
            raise TraceError(f"trace path is a directory: {path}")
        try:
            with open_text(path) as fh:
                trace.records.extend(iter_lines(_lenient(fh, trace, path), trace))
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise TraceError(f"{path} is a damaged or truncated gzip file ({exc})") from exc
        except OSError as exc:
            raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    else:
        trace.records.extend(iter_lines(source, trace))
    _note_unknown_size(trace)  # what its jobs lack (no user ids, ...): hal.sim.trace_notes
    return trace


COMPRESSED = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd"}
UNPACK = {"bzip2": "bzcat", "xz": "xzcat", "zip": "unzip -p", "zstd": "zstdcat"}  # each kind's own (QA: bzip2 xzcat)


def open_text(path: Path) -> TextIO:
    """A trace file as text: gzip-compressed ones (the Parallel Workloads Archive ships .swf.gz) are read as
    they are, found by their first bytes whatever their name; a UTF-8 BOM is dropped. Bytes that are not UTF-8
    come through as lone surrogates for ``_lenient`` to judge line by line. The file is opened once and its first
    bytes are handed back to the reader: a pipe (``<(xzcat t.swf.xz)``, /dev/stdin) cannot be opened again, and
    a second open lost the bytes the first had buffered (QA: the header and 36 jobs)."""
    raw = path.open("rb")
    try:
        head = raw.read(6)
        kind = next((name for magic, name in COMPRESSED.items() if head.startswith(magic)), None)
        if kind is not None:
            raise TraceError(
                f"{path} is {kind}-compressed: decompress it first, e.g. hal simulate <({UNPACK[kind]} FILE) "
                "(gzip-compressed traces are read as is)"
            )
        stream: io.BufferedIOBase = io.BufferedReader(_Prefixed(head, raw))
        if head.startswith(b"\x1f\x8b"):
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        return _Text(stream, raw)
    except BaseException:
        raw.close()
        raise


class _Prefixed(io.RawIOBase):
    """``head`` (bytes already read from ``rest``), then the rest of ``rest``."""

    def __init__(self, head: bytes, rest: io.BufferedReader) -> None:
        super().__init__()
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(buffer)


class _Text(io.TextIOWrapper):
    """Text over ``stream`` that closes the file under it too (a GzipFile given a file object leaves it open)."""

    def __init__(self, stream: io.BufferedIOBase, file: io.BufferedReader) -> None:
        super().__init__(stream, encoding="utf-8-sig", errors="surrogateescape")  # type: ignore[arg-type]
        self._file = file

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._file.close()


def format_record(values: Iterable[int]) -> str:
    return " ".join(str(int(v)) for v in values)


def write_swf(path: str | Path, records: Iterable[SwfRecord], header: dict[str, str] | None = None) -> None:
    with output_file(path) as fh:  # whole or not at all (OutputError): a full disk left a cut-off trace (QA)
        for key, value in (header or {}).items():
            fh.write(f"; {key}: {value}\n")
        for rec in records:
            fh.write(format_record(rec.values()) + "\n")

"""Reading topology.conf's lines as Slurm's config parser does: comments, backslash continuations, ``Include``
files, Key=Value pairs. Sites split long hostlists over lines and keep switch lists in included files; both
were refused ("expected Key=Value pairs", QA). Spaces around ``=`` are allowed, as Slurm's parser allows them
(parse_config.c's keyvalue_pattern; ``Nodes = n[0-7]`` and ``Nodes= n[0-7]`` were refused, QA)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hal.textfile import read_text
from hal.topology_conf_lines import TopologyConfError

_KEY = re.compile(r"([\w.]+)\s*=\s*")  # Slurm's key: [[:alnum:]_.]+, then spaces on either side of '='
_VALUE = re.compile(r'"([^"]*)"(?=\s|$)|\S*')  # a quoted value (spaces and all) or the next word, as Slurm's
_INCLUDE = re.compile(r"include(?:\s+(.*))?", re.IGNORECASE)
MAX_DEPTH = 16  # Includes within Includes; a loop is caught before this

Reader = Callable[[Path], str]


class Line(int):
    """A record's place: ordered by where it is read (an included file's lines come where its Include is), and
    shown as its own file's line number, with that file when it is an included one. Every message that names a
    line (``at line 3``) then names the right file, as the checks pass lines on as numbers."""

    number: int
    file: str
    shown: str

    def __new__(cls, order: int, number: int, file: str, included: bool) -> Line:
        line = super().__new__(cls, order)
        line.number, line.file = number, file
        line.shown = f"{number} of {file}" if included else str(number)
        return line

    def __str__(self) -> str:
        return self.shown

    def __format__(self, spec: str) -> str:
        return format(self.shown, spec)

    def __repr__(self) -> str:
        return self.shown


def where(source: str, line: int | None) -> str:
    """``source line N``, or the included file's name and its own line."""
    if isinstance(line, Line):
        return f"{line.file} line {line.number}"
    return source if line is None else f"{source} line {line}"


def records(text: str, source: str, reader: Reader | None = None) -> list[tuple[int, dict[str, str]]]:
    """Key=Value records, one per logical line, ``Include FILE`` lines replaced by that file's (a relative FILE
    is in the including file's folder, as Slurm reads it); ``reader`` reads an included file (the disk's by
    default)."""
    read = reader or (lambda path: read_text(path, "included file", TopologyConfError))
    out: list[tuple[int, dict[str, str]]] = []
    _read(text, source, read, out, [], Path(source).resolve())
    return out


def _read(text: str, source: str, read: Reader, out: list[tuple[int, dict[str, str]]], chain: list[Path],
          path: Path) -> None:  # fmt: skip
    included = bool(chain)
    chain = [*chain, path]
    for lineno, line in _logical(text):
        at = Line(len(out) + 1, lineno, source, included)
        match = _INCLUDE.fullmatch(line.strip())
        if match is None:
            out.append((at, _pairs(at, line)))
            continue
        name = (match.group(1) or "").strip().strip('"')
        if not name:
            raise TopologyConfError("Include needs a file name", at)
        target = Path(name) if Path(name).is_absolute() else path.parent / name
        if target.resolve() in chain:  # Slurm recurses until it runs out of depth
            loop = " -> ".join(str(p) for p in chain[chain.index(target.resolve()) :])
            raise TopologyConfError(f"Include {name}: include loop ({loop} -> {target.resolve()})", at)
        if len(chain) > MAX_DEPTH:
            raise TopologyConfError(f"Include {name}: more than {MAX_DEPTH} nested Includes", at)
        try:
            sub = read(target)
        except TopologyConfError as exc:  # not found, unreadable: said with the Include that names it
            raise TopologyConfError(f"Include {name}: {exc}", at) from None
        _read(sub, str(target), read, out, chain, target.resolve())


def _logical(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each non-blank logical line: comments dropped, and a line ending in an odd number
    of backslashes joined to the next with the backslash removed and nothing added, as Slurm joins them (so
    ``Nodes=n[01-04],\\`` then ``n[05-08]`` is one hostlist; it was two tokens)."""
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = lineno
        backslashes = len(line) - len(line.rstrip("\\"))
        if backslashes % 2:
            pending += line[:-1]
            continue
        logical.append((start, pending + line))
        pending = ""
    if pending:  # a continuation on the last line: the record ends with the file
        logical.append((start, pending))
    return [(start, line) for start, line in logical if line.strip()]


_NAMED = {"switchname": "SwitchName= needs a name", "blockname": "BlockName= needs a name"}


def _pairs(start: int, line: str) -> dict[str, str]:
    """The line's Key=Value pairs, keys lowercased, read as Slurm reads them: ``Key = Value`` and ``Key= Value``
    too. After ``Key=`` and spaces, a word that is itself ``Key=`` starts the next pair, so ``Nodes= Switches=s1``
    is said to have an empty Nodes=, not a Nodes= of ``Switches=s1``."""
    pairs: dict[str, str] = {}
    pos = 0
    while (pos := len(line) - len(line[pos:].lstrip())) < len(line):  # the next word's start
        key_at = _KEY.match(line, pos)
        if key_at is None:  # a stray word was ignored, and the line meant something else
            raise TopologyConfError(f"expected Key=Value pairs, got {line[pos:].split()[0]!r}", start)
        name, at = key_at.group(1), key_at.end()
        spaced = line[at - 1].isspace()
        value_at = _VALUE.match(line, at)  # always matches (\S* may be empty)
        if value_at is None or (spaced and _KEY.match(line, at)):  # `Nodes= Switches=s1`: Nodes= has no value
            value, pos = "", at
        else:
            value, pos = value_at.group(1) or value_at.group(0).strip('"'), value_at.end()
        key = name.lower()
        if key in pairs:  # the last one won, silently
            raise TopologyConfError(f"{name}= given twice", start)
        if not value:  # it said "expected Key=Value pairs", as if the key were the fault
            raise TopologyConfError(_NAMED.get(key, f"{name}= is empty"), start)
        if "=" in value:  # `SwitchName=s1\` then `Nodes=...`: joined as Slurm joins them, one word
            raise TopologyConfError(
                f"{line[key_at.start() : pos]!r}: a value with '=' in it (a line ending in '\\' is joined to the "
                "next with nothing between them, as Slurm joins it: put a space before the '\\')",
                start,
            )
        pairs[key] = value
    return pairs

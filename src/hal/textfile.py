"""Reading a configuration file a person wrote (cluster file, topology.conf): every way it can fail is a
one-line error of the caller's own type, naming the file; a leading byte-order mark is not part of the text."""

from __future__ import annotations

from pathlib import Path

BOM = "\ufeff"  # what Notepad and some editors put before UTF-8 text: TOML and topology.conf read it as a character


def read_text(path: Path, what: str, error: type[Exception], undecodable: str = "not text") -> str:
    if not path.exists():
        raise error(f"{what} not found: {path}")
    try:
        return path.read_text(encoding="utf-8").removeprefix(BOM)  # accepted, as in SWF traces (QA)
    except OSError as exc:  # a directory, no permission
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: {undecodable} ({exc.reason} at byte {exc.start})") from exc

"""argparse types for the benchmarks' options: a bad value is a usage error naming it, not a traceback later."""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from pathlib import Path


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def nonneg_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def nonneg_float(text: str) -> float:
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def int_list(text: str) -> list[int]:
    """``7,8,9``."""
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one value")
    return values


def seed_list(text: str) -> list[int]:
    """``7,8,9``: random seeds, which numpy takes only when >= 0, each once (7,7 counted seed 7 twice in a
    median)."""
    values = int_list(text)
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"seeds must be >= 0, not {text}")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"seed {', '.join(map(str, twice))} given more than once in {text}")
    return values


def existing_file(ap: argparse.ArgumentParser, path: Path, option: str = "--trace") -> Path:
    """A file the run reads, checked before any work: a usage error (exit 2), not a traceback."""
    if not path.is_file():
        ap.error(f"{option} {path}: no such file" + (" (a folder)" if path.is_dir() else ""))
    return path


def known_names(ap: argparse.ArgumentParser, given: list[str], known: Iterable[str], what: str = "trace") -> None:
    """Names chosen from a table (built-in traces): an unknown one is a usage error, not a KeyError."""
    names = list(known)
    unknown = [n for n in given if n not in names]
    if unknown:
        ap.error(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(names)}")

"""Slurm's compact host lists: `n[0-3],gpu07` <-> the node names, and `2(x3),4` run-length counts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_NAME = re.compile(r"^(.*?)(\d+)$")


def compress(names: Iterable[str]) -> str:
    """Joins names into Slurm's form, grouping runs of consecutive numbers that share a prefix and width."""
    groups: list[tuple[str, list[tuple[int, str]]]] = []  # (prefix, [(number, digits)]) in first-seen order
    plain: list[str] = []
    order: list[tuple[str, int]] = []  # ("plain", i) or ("group", i): keeps the caller's order
    index: dict[tuple[str, int], int] = {}
    names = list(names)
    padded: set[tuple[str, int]] = set()  # (prefix, width) of zero-padded numbers: gb09 makes gb10 one of them
    for found in filter(None, map(_NAME.match, names)):
        if _width(found.group(2)):
            padded.add((found.group(1), _width(found.group(2))))
    for name in names:
        m = _NAME.match(name)
        if not m:
            order.append(("plain", len(plain)))
            plain.append(name)
            continue
        digits = m.group(2)
        key = (m.group(1), _width(digits) or (len(digits) if (m.group(1), len(digits)) in padded else 0))
        if key not in index:
            index[key] = len(groups)
            groups.append((m.group(1), []))
            order.append(("group", index[key]))
        groups[index[key]][1].append((int(m.group(2)), m.group(2)))
    parts = [plain[i] if kind == "plain" else _group_text(*groups[i]) for kind, i in order]
    return ",".join(parts)


def compress_ordered(names: Iterable[str]) -> str:
    """compress() that keeps the names' order, so expand() gives them back as given: a job's node list in its
    tasks' (topology) order, as HAL_NODELIST and HAL_TASKS_PER_NODE give it. Sorted names read as compress()."""
    names = list(names)
    text = compress(names)
    if expand(text) == names:
        return text
    runs: list[tuple[str, list[list[str]]]] = []  # (prefix, runs of consecutive numbers), adjacent names only
    for name in names:
        m = _NAME.match(name)
        if m is None:
            runs.append((name, []))
            continue
        prefix, digits = m.group(1), m.group(2)
        if runs and runs[-1][0] == prefix and runs[-1][1]:
            last = runs[-1][1][-1][-1]
            if int(digits) == int(last) + 1 and (len(digits) == len(last) or not (_width(last) or _width(digits))):
                runs[-1][1][-1].append(digits)
            else:
                runs[-1][1].append([digits])
        else:
            runs.append((prefix, [[digits]]))
    parts = []
    for prefix, groups in runs:
        if not groups:
            parts.append(prefix)
        elif len(groups) == 1 and len(groups[0]) == 1:
            parts.append(prefix + groups[0][0])
        else:
            parts.append(prefix + "[" + ",".join(g[0] if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups) + "]")
    return ",".join(parts)


def ranges(numbers: Iterable[int]) -> str:
    """Numbers in Slurm's bracket form, as array task ids are shown: [2-7,9] (a lone number bare)."""
    return _group_text("", [(n, str(n)) for n in numbers])


def _width(digits: str) -> int:
    """The zero-padded width of a number (`007` -> 3), or 0 when it is not padded."""
    return len(digits) if len(digits) > 1 and digits.startswith("0") else 0


def _group_text(prefix: str, numbers: list[tuple[int, str]]) -> str:
    if len(numbers) == 1:
        return prefix + numbers[0][1]
    width = max(_width(d) for _, d in numbers)
    values = sorted(set(n for n, _ in numbers))
    ranges: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        a, b = str(start).zfill(width), str(prev).zfill(width)
        ranges.append(a if start == prev else f"{a}-{b}")
        if v is not None:
            start = prev = v
    return f"{prefix}[{','.join(ranges)}]"


def expand(text: str) -> list[str]:
    """The inverse of compress: `n[0-2,5],x` -> n0 n1 n2 n5 x (zero padding kept)."""
    _check_brackets(text)
    names: list[str] = []
    for part in _split_top(text):
        m = re.fullmatch(r"(.*?)\[([^\]]*)\](.*)", part)
        if not m:
            names.append(part)
            continue
        prefix, body, suffix = m.groups()
        tails = expand(suffix) if "[" in suffix else [suffix]  # rack[1-2]-n[01-02]: every combination
        for item in body.split(","):
            lo, dash, hi = item.partition("-")
            if not lo.isdigit() or not (hi or lo).isdigit() or (dash and not hi):
                raise ValueError(f"{part!r}: {item!r} is not a number or a range of numbers")
            if int(hi or lo) < int(lo):
                raise ValueError(f"{part!r}: the range {item!r} runs backwards")
            width = _width(lo)
            if len(names) + (int(hi or lo) - int(lo) + 1) * len(tails) > MAX_NAMES:  # gp[0-10^20]: all memory
                raise ValueError(f"{text[:60]!r} names more than {MAX_NAMES:,} hosts")
            for n in range(int(lo), int(hi or lo) + 1):
                names.extend(f"{prefix}{str(n).zfill(width)}{tail}" for tail in tails)
    return names


MAX_NAMES = 100_000  # hosts in one list: the most nodes a cluster file may have


def _check_brackets(text: str) -> None:
    """Unbalanced or nested brackets are a typo, not a node name: `n[01-08` was taken as one (unknown) host and
    `n[01-08]],n[09-16]` expanded into names no node has."""
    depth = 0
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if depth < 0:
            raise ValueError(f"{text!r}: a ']' without its '['")
        if depth > 1:
            raise ValueError(f"{text!r}: a '[' inside brackets")
    if depth:
        raise ValueError(f"{text!r}: a '[' without its ']'")


def _split_top(text: str) -> list[str]:
    """Splits on the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def counts(values: Sequence[int]) -> str:
    """Slurm's run-length form for per-node counts, as in SLURM_JOB_CPUS_PER_NODE: [2, 2, 4] -> `2(x2),4`."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        parts.append(str(values[i]) if j - i == 1 else f"{values[i]}(x{j - i})")
        i = j
    return ",".join(parts)
